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


def test_a_typo_is_forgiven_but_ranks_below_real_matches() -> None:
    labels = ["Files", "Dashboard", "Module manager", "Tasks board", "Event log and dead letters"]
    assert fuzzy.rank("flies", labels, key=lambda s: (s,)) == ["Files"]  # two letters swapped
    assert fuzzy.rank("dashbaord", labels, key=lambda s: (s,)) == ["Dashboard"]
    assert fuzzy.rank("modlue managr", labels, key=lambda s: (s,))[0] == "Module manager"  # two edits, long query
    assert fuzzy.score("fxles", "Files") is not None  # one letter wrong
    assert fuzzy.score("fxxes", "Files") is None  # two is too many for five letters
    assert fuzzy.score("fi", "if") is None  # too short to guess at
    exact, typo = fuzzy.score("files", "My files"), fuzzy.score("flies", "Files")
    assert exact is not None and typo is not None and exact > typo


def test_prefix_distances_count_a_swap_as_one_edit() -> None:
    assert fuzzy.prefix_distances("ab", "ba") == [2, 1, 1]
    assert fuzzy.prefix_distances("kitten", "sitting")[-1] == 3
