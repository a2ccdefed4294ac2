"""The one error type a page can raise, carrying where the author must look.

Every problem a page author can cause (bad SQL, an unknown component, a reference to a query
that does not exist, a Jinja mistake) becomes a `PageError` with the page file and the line in
that file, so the site report can say `financial.md:42: unknown component <BigVal>` and build
the other pages regardless.
"""

from __future__ import annotations


class PageError(Exception):
    """A problem in one page, located at `page:line`."""

    def __init__(self, page: str, line: int | None, message: str) -> None:
        self.page = page
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.page}:{self.line}" if self.line else self.page
        return f"{where}: {self.message}"
