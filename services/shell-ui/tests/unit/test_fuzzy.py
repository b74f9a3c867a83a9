from webos_shell import fuzzy


def test_characters_in_order_match_and_out_of_order_do_not() -> None:
    assert fuzzy.score("mot", "My open tasks") is not None
    assert fuzzy.score("tom", "My open tasks") is None
    assert fuzzy.score("", "anything") == 0.0


def test_word_starts_and_substrings_rank_first() -> None:
    labels = ["Import settings", "My open tasks", "Modules", "Tasks board"]
    assert fuzzy.rank("mot", labels, key=lambda s: (s,))[0] == "My open tasks"
    assert fuzzy.rank("task", labels, key=lambda s: (s,))[0] == "Tasks board"
    assert fuzzy.rank("open", labels, key=lambda s: (s,)) == ["My open tasks"]


def test_keywords_count_and_limit_applies() -> None:
    items = [("New task", ("create", "add")), ("Dashboard", ("home",))]
    ranked = fuzzy.rank("home", items, key=lambda i: (i[0], *i[1]))
    assert [i[0] for i in ranked] == ["Dashboard"]
    assert len(fuzzy.rank("", [str(n) for n in range(50)], key=lambda s: (s,), limit=5)) == 5
