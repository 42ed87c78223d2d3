from dataclasses import replace

from qa.search.rank import prefer_time, select
from qa.search.retrieve import Hit
from qa.text.articles import Article
from qa.text.passages import Passage


def hit(article_id: str, text: str, score: float, date: str | None = None, row: int = 0) -> Hit:
    article = Article(article_id, article_id.title(), text, date=date)
    passage = Passage(f"{article_id}#{row}", article_id, row, 0, len(text), text, ((0, len(text)),))
    return Hit(passage, article, score, 0.0, 0.0, row)


def test_select_caps_passages_per_article_and_fills_from_the_rest():
    hits = [hit("a", f"alpha text number {i}", 1 - i / 10, row=i) for i in range(4)] + [hit("b", "beta text", 0.1)]
    chosen = select(hits, k=3, per_article=2)
    assert [h.article.id for h in chosen] == ["a", "a", "b"]
    assert [h.article.id for h in select(hits, k=5, per_article=2)] == ["a", "a", "b", "a", "a"]
    assert [h.article.id for h in select(hits, k=3, per_article=0)] == ["a", "a", "a"]


def test_select_shows_duplicate_text_once_and_says_where_else():
    story = "The bridge over the Vltava reopened on Friday after repairs."
    chosen = select([hit("a", story, 0.9), hit("b", story + " ", 0.8), hit("c", "Unrelated bakery news.", 0.5)], 3, 2)
    assert [h.article.id for h in chosen] == ["a", "c"] and chosen[0].also_in == ("b",)


def test_an_update_that_changes_a_number_is_not_folded_as_the_same_text():
    early = "A flood in the northern valley killed 12 people on Monday, regional officials said on Tuesday."
    update = early.replace("12", "45")
    chosen = select([hit("update", update, 0.9), hit("early", early, 0.8)], 3, 2)
    assert [h.article.id for h in chosen] == ["update", "early"] and chosen[0].also_in == ()


def test_wire_copies_that_differ_in_dateline_day_or_clock_time_still_fold():
    body = "The governor asked for federal aid after floods killed 12 people and damaged 300 homes on Monday."
    copies = [f"RAVIA, March 4 (Reuters) - {body}", f"RAVIA, 5 March (Reuters) - {body}",
              f"Updated 10:42 GMT. {body}", f"Updated 11:15 GMT. {body}"]  # fmt: skip
    for first, second in ((copies[0], copies[1]), (copies[2], copies[3])):
        chosen = select([hit("a", first, 0.9), hit("b", second, 0.8)], 3, 2)
        assert [h.article.id for h in chosen] == ["a"] and chosen[0].also_in == ("b",)


def test_figures_that_only_look_like_dates_or_times_keep_stories_apart():
    pairs = [
        ("The bank raised its rate to 3.25 percent on Thursday after a long meeting of the board.", "3.25", "4.75"),
        ("After the landslide officials said that 12 may have died and many more are missing.", "12", "45"),
        ("The court will hear the case again and announce its decision on March 4 in the capital city.", "4", "18"),
    ]  # fmt: skip
    for text, old, new in pairs:
        chosen = select([hit("a", text, 0.9), hit("b", text.replace(old, new), 0.8)], 3, 2)
        assert [h.article.id for h in chosen] == ["a", "b"], text


def test_prefer_time_lifts_by_date_fit_and_strong_evidence_still_wins():
    near, far = hit("near", "x", 0.5, "2024-01-01"), hit("far", "y", 0.55, "2020-01-01")
    assert [h.article.id for h in prefer_time([far, near], [0.0, 1.0], 0.1)] == ["near", "far"]
    strong = replace(far, score=0.7)
    assert [h.article.id for h in prefer_time([strong, near], [0.0, 1.0], 0.1)] == ["far", "near"]
    assert prefer_time([far, near], [0.0, 0.0], 0.1) == [far, near]
