"""lenet_pynq.threads: parts of a computation in parallel threads, in order; the BLAS pinned and restored."""

import threading

import pytest
from threadpoolctl import threadpool_info

from lenet_pynq import threads


@pytest.mark.parametrize("count", [1, 2, 3])
def test_run_parts_returns_every_result_in_the_parts_order(count):
    """The first ``count`` parts wait for each other: they finish only if ``count`` threads took one each."""
    seen = set()
    together = threading.Barrier(count)

    def square(i):
        seen.add(threading.get_ident())
        if i < count:
            together.wait(timeout=10)  # a BrokenBarrierError here: fewer threads than asked for
        return i * i

    assert threads.run_parts(square, list(range(7)), count) == [i * i for i in range(7)]
    assert threading.get_ident() in seen, "the caller's thread computes parts too"
    assert len(seen) == count
    assert threads.run_parts(square, [], count) == []


def test_a_thread_that_is_held_up_takes_fewer_parts():
    """The parts go to whichever thread is free: while the caller is stuck in one, the other takes all the rest."""
    caller, n = threading.get_ident(), 6
    lock, by_others, others_done = threading.Lock(), [], threading.Event()

    def part(i):
        if threading.get_ident() == caller:
            assert others_done.wait(timeout=10), f"the other thread took only parts {by_others}"
        else:
            with lock:
                by_others.append(i)
                if len(by_others) == n - 1:
                    others_done.set()
        return i

    assert threads.run_parts(part, list(range(n)), 2) == list(range(n))
    assert len(by_others) == n - 1


def test_a_part_that_raises_raises_in_the_caller():
    def fail_on_three(i):
        if i == 3:
            raise ValueError("part 3")
        return i

    with pytest.raises(ValueError, match="part 3"):
        threads.run_parts(fail_on_three, list(range(5)), 2)


def test_run_parts_inside_a_part_computes_in_that_thread_instead_of_waiting_for_itself():
    inner = lambda i: threads.run_parts(lambda j: (i, j), [0, 1, 2], 2)
    assert threads.run_parts(inner, [0, 1], 2) == [[(i, j) for j in range(3)] for i in range(2)]


def test_limit_blas_pins_the_blas_and_restores_it():
    assert threads.blas_limit_available()
    before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    with threads.limit_blas(1):
        assert all(lib["num_threads"] == 1 for lib in threadpool_info() if lib["user_api"] == "blas")
    assert [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"] == before
