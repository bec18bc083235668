"""The benchmark harness's own arithmetic and parsing (`make bench` itself is not a test: no timings here)."""

from benchmarks import web
from benchmarks.__main__ import fixed_in_n, flatness
from benchmarks.report import Figure


def test_p99_of_fifty_is_the_slowest_and_of_a_hundred_the_second_slowest():
    assert web.percentile([float(n) for n in range(1, 51)], 0.99) == 50
    assert web.percentile([float(n) for n in range(1, 101)], 0.99) == 99


def test_the_older_events_link_is_found_whatever_the_order_of_its_attributes():
    assert (
        web.older_link('<a class="b" href="/s/x/?after=1%3A2&amp;q=a" rel="next">Older</a>') == "/s/x/?after=1%3A2&q=a"
    )
    assert web.older_link('<a rel="next" class="b" href="/s/x/?after=3">Older</a>') == "/s/x/?after=3"
    assert web.older_link("<p>no more</p>") == ""


def test_a_fixed_figure_is_met_only_when_it_is_the_same_from_a_thousand_up():
    rows = [Figure("2", "queries", n, v, "queries", "fixed in N") for n, v in [(100, 4), (1000, 8), (10**6, 8)]]
    assert [f.met for f in fixed_in_n(rows)] == [True, True, True]
    rows.append(Figure("2", "queries", 10**5, 9, "queries", "fixed in N"))
    assert {f.met for f in fixed_in_n(rows)} == {False}


def test_a_bounded_figure_may_vary_a_little_but_not_grow():
    rows = [Figure("2", "elements", n, v, "elements", "bounded in N") for n, v in [(1000, 94), (10**6, 95)]]
    assert {f.met for f in fixed_in_n(rows)} == {True}
    rows.append(Figure("2", "elements", 10**7, 120, "elements", "bounded in N"))
    assert {f.met for f in fixed_in_n(rows)} == {False}


def test_each_figure_as_n_grows_is_a_row_per_measure_and_a_column_per_size():
    rows = [Figure("7. desk", "median", n, v, "ms") for n, v in [(1000, 20.0), (100_000, 21.5)]]
    text = flatness(rows)
    assert "| what | 1,000 | 100,000 |" in text
    assert "| median | 20.0 ms | 21.5 ms |" in text
