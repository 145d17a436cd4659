"""lenet_pynq.threads: parts of a computation in parallel threads, in order; the BLAS pinned and restored."""

import threading

import pytest
from threadpoolctl import threadpool_info

from lenet_pynq import threads


@pytest.mark.parametrize("count", [1, 2, 3])
def test_run_parts_returns_every_result_in_the_parts_order(count):
    seen = set()

    def square(i):
        seen.add(threading.get_ident())
        return i * i

    assert threads.run_parts(square, list(range(7)), count) == [i * i for i in range(7)]
    assert threading.get_ident() in seen, "the caller's thread computes parts too"
    if count == 1:
        assert seen == {threading.get_ident()}
    else:
        assert len(seen) >= 2, "some parts ran in a worker thread"
    assert threads.run_parts(square, [], count) == []


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
