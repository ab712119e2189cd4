"""Seeding per trial: the same (seed, trial number, history) proposes the same values in any worker; two
workers with the same --seed do not propose the same values side by side."""

from __future__ import annotations

import optuna

from tinydet.tune.sampler import TrialSeededTPESampler
from tinydet.tune.space import load_space

SPACE = load_space()


def proposals(storage, workers: int, rounds: int, seed: int = 0):
    """`workers` samplers on one study, each asking in turn (as parallel workers would); values per trial number."""
    studies = [optuna.create_study(study_name="s", storage=storage, direction="maximize", load_if_exists=True,
                                   sampler=TrialSeededTPESampler(seed)) for _ in range(workers)]
    values = {}
    for _ in range(rounds):
        asked = [(study, study.ask()) for study in studies]  # all start a trial before any finishes
        for study, trial in asked:
            values[trial.number] = SPACE.suggest(trial)
        for study, trial in asked:
            study.tell(trial, float(trial.params["box"]))
    return values


def test_same_seed_same_proposals_and_parallel_workers_differ():
    first = proposals(optuna.storages.InMemoryStorage(), workers=2, rounds=2)
    again = proposals(optuna.storages.InMemoryStorage(), workers=2, rounds=2)
    assert first == again
    assert first[0] != first[1]  # two workers, same --seed, started together: different trials
    other_seed = proposals(optuna.storages.InMemoryStorage(), workers=2, rounds=2, seed=1)
    assert other_seed[0] != first[0]


def test_one_worker_or_two_propose_the_same_per_trial_number_while_random():
    # During the random start-up phase a trial's values depend only on (seed, number).
    one = proposals(optuna.storages.InMemoryStorage(), workers=1, rounds=4)
    two = proposals(optuna.storages.InMemoryStorage(), workers=2, rounds=2)
    assert one == two
