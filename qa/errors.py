"""The one error hierarchy of qa. Interfaces turn a QAError into a clean message.

Messages name the bad value, the limit, and the fix.
"""


class QAError(Exception):
    "Base class for errors shown to the user by the CLI and the app"


class NoArticlesError(QAError):
    "No readable article was found where articles were expected"


class ArticleError(QAError):
    "One article file (or one line of it) could not be read"


class IndexNotFoundError(QAError):
    "No index exists at the given location"


class IndexMismatchError(QAError):
    "Index was built with a different model, dimension or format version"


class IndexCorruptError(QAError):
    "Index files are missing, truncated or do not match their checksums"


class QuestionError(QAError):
    "The question cannot be answered as given (empty, too long, ...)"


class QuestionSetError(QAError):
    "A question set file is malformed"


class DatasetError(QAError):
    "A public dataset (SQuAD JSON, BEIR folder) is not in the expected format"


class MissingDependencyError(QAError):
    "An optional package needed for this feature is not installed"


class VectorStoreError(QAError):
    "The vector store (Milvus) named by --vector-store or $QA_VECTOR_STORE cannot be used"


class SettingError(QAError):
    "A setting has a value qa does not accept"


class IndexWriteError(QAError):
    "The index folder cannot be written (a file, read-only, disk full)"


class SourcesError(QAError):
    "What an index was built from cannot be known, or a recorded source is gone"
