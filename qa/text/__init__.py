"""Articles from files: readers per format, the folder walk, ingest, sentences and passages."""
