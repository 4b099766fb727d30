"""The read API: articles with filters, full-text search and cursors; failures; OpenAPI.

Handlers are plain ``def``: FastAPI runs them in its thread pool, so a slow query never
blocks the event loop that also carries the service's stream consumers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, Field

from .query import ArticleQuery, InvalidCursor
from .repository import ArticleStore, StoredArticle, StoredFailure, StoredRevision

__all__ = ["ArticlePageOut", "create_api"]

MAX_PAGE = 200


class ArticlePageOut(BaseModel):
    items: list[StoredArticle]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null at the end"
    )


class FailuresOut(BaseModel):
    items: list[StoredFailure]


class RevisionsOut(BaseModel):
    items: list[StoredRevision]


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def create_api(store: ArticleStore) -> FastAPI:
    api = FastAPI(
        title="newsflow storage",
        summary="Stored articles, their stories and revisions, and final failures.",
        version="1",
    )

    @api.get("/articles", response_model=ArticlePageOut)
    def list_articles(
        language: Annotated[str | None, Query(description="ISO 639-1 code")] = None,
        topic: str | None = None,
        site: Annotated[str | None, Query(description="host, e.g. example.org")] = None,
        story: Annotated[int | None, Query(description="story id")] = None,
        published_from: Annotated[datetime | None, Query(description="inclusive")] = None,
        published_to: Annotated[datetime | None, Query(description="exclusive")] = None,
        q: Annotated[str | None, Query(description="every word, in title or text")] = None,
        limit: Limit = 20,
        cursor: str | None = None,
    ) -> ArticlePageOut:
        """Newest stored first; page with ``next_cursor``."""
        query = ArticleQuery(
            language=language,
            topic=topic,
            site=site,
            story_id=story,
            published_from=published_from,
            published_to=published_to,
            q=q,
            limit=limit,
            cursor=cursor,
        )
        try:
            page = store.find_articles(query)
        except InvalidCursor as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        return ArticlePageOut(items=page.articles, next_cursor=page.next_cursor)

    @api.get("/articles/{article_id}", response_model=StoredArticle)
    def get_article(article_id: int) -> StoredArticle:
        article = store.get_article(article_id)
        if article is None:
            raise HTTPException(status_code=404, detail=f"no article {article_id}")
        return article

    @api.get("/articles/{article_id}/revisions", response_model=RevisionsOut)
    def get_revisions(article_id: int) -> RevisionsOut:
        """Every revision's content, oldest first."""
        revisions = store.revisions(article_id)
        if not revisions:
            raise HTTPException(status_code=404, detail=f"no article {article_id}")
        return RevisionsOut(items=revisions)

    @api.get("/failures", response_model=FailuresOut)
    def list_failures(
        stage: Annotated[str | None, Query(description="fetcher, cleaner, ...")] = None,
        limit: Limit = 50,
    ) -> FailuresOut:
        """URLs that ended in a permanent failure, most recent first."""
        return FailuresOut(items=store.list_failures(limit=limit, stage=stage))

    return api
