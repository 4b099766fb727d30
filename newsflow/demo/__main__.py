from newsflow.demo.run import main

raise SystemExit(main())
