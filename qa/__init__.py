"""qa: offline question answering over news articles, with exact sentence citations."""

from qa.index.build import BuildResult, index_paths
from qa.search.answer import Answer, Citation, answer_json
from qa.search.conversation import Turn
from qa.search.engine import Engine
from qa.search.options import SearchOptions
from qa.search.retrieve import Filters, Hit
from qa.text.articles import Article, Problem
from qa.text.ingest import load_articles
from qa.text.passages import Passage, split_article

from .config import IndexSettings
from .errors import QAError

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
