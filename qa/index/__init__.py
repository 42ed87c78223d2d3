"""The index folder: one owner of its files, written as generations and opened as a PassageIndex."""
