"""TPE seeded per trial, so that parallel workers started with the same --seed do not propose the same values.

One `TPESampler(seed=s)` per worker would make every worker draw the same random start-up points: two workers
with --seed 0 would train identical trials side by side. Here each trial gets a TPE sampler seeded from
(seed, trial number); trial numbers are unique within a study, so a study's proposals depend only on the seed
and on the trials already in the study, whichever worker asks.
"""

from __future__ import annotations

import numpy as np
from optuna.samplers import BaseSampler, TPESampler


def trial_seed(seed: int, number: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(number)]).generate_state(1)[0])


class TrialSeededTPESampler(BaseSampler):
    """optuna's TPE (with constant_liar, which steers workers away from trials still running) whose random
    state is a function of (seed, trial number)."""

    def __init__(self, seed: int = 0, n_startup_trials: int = 10):
        self.seed, self.n_startup_trials = int(seed), int(n_startup_trials)
        self._samplers: dict[int, TPESampler] = {}

    def _for(self, trial) -> TPESampler:
        sampler = self._samplers.get(trial.number)
        if sampler is None:
            sampler = TPESampler(seed=trial_seed(self.seed, trial.number), n_startup_trials=self.n_startup_trials,
                                 constant_liar=True)
            self._samplers[trial.number] = sampler
        return sampler

    def infer_relative_search_space(self, study, trial):
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._for(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial) -> None:
        self._for(trial).before_trial(study, trial)

    def after_trial(self, study, trial, state, values) -> None:
        sampler = self._samplers.pop(trial.number, None) or self._for(trial)
        self._samplers.pop(trial.number, None)  # _for() may have cached it again
        sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:  # optuna calls this for forked workers; seeds here are per trial already
        pass
