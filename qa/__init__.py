"""qa: offline question answering over news articles, with exact sentence citations."""

from .config import IndexSettings
from .errors import QAError
from .index.build import BuildResult, index_paths
from .search.answer import Answer, Citation, answer_json
from .search.conversation import Turn
from .search.engine import Engine
from .search.options import SearchOptions
from .search.retrieve import Filters, Hit
from .text.articles import Article, Problem
from .text.ingest import load_articles
from .text.passages import Passage, split_article

__version__ = "0.1.0"
__all__ = [
    "Answer",
    "Article",
    "BuildResult",
    "Citation",
    "Engine",
    "Filters",
    "Hit",
    "IndexSettings",
    "Passage",
    "Problem",
    "QAError",
    "SearchOptions",
    "Turn",
    "answer_json",
    "index_paths",
    "load_articles",
    "split_article",
]
