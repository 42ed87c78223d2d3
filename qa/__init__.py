"""qa: offline question answering over news articles, with exact sentence citations."""

from .answer import Answer, Citation, answer_json
from .articles import Article, Problem
from .config import IndexSettings
from .conversation import Turn
from .engine import BuildResult, Engine, SearchOptions, index_paths
from .errors import QAError
from .ingest import load_articles
from .passages import Passage, split_article
from .retrieve import Filters, Hit

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
