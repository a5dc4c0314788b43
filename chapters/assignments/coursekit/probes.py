"""The stored values of each assignment's public tests, computed from the references at build time.

``stored_values(name)`` returns a dict of probes (see :mod:`assignment_checks`), written to
``expected_values.json`` and handed to students with the public tests. Entries whose name starts
with ``_reference_`` are not handed out: the build writes them to ``reference_values.json`` beside
the autograder, for the instructor and for the tests of the model answers.
"""

from __future__ import annotations

import numpy as np

from . import autograder_checks as ag

__all__ = ["stored_values"]


def _value(expected, threshold=1e-9, hint=""):
    return dict(kind="value", expected=np.asarray(expected, dtype=np.float64), threshold=threshold, hint=hint)


def _adam_from_scratch():
    from adamedu import Adam

    theta = np.zeros(4)
    Adam([theta]).step([np.array([1e-6, 1e-3, 1.0, 1e3])])
    return {
        "update_moments": ag.update_moments_spec(),
        "bias_correct": ag.bias_correct_spec(),
        "adam_step": ag.adam_step_spec(helpers=ag._adam_step_helpers(ag.ADAM_QUESTIONS)),
        "run_adam": ag.run_adam_spec(helpers={"adam_step": "Question 3"}),
        "Adam": ag.adam_class_spec(helpers={"adam_step": "Question 3"}),
        "first_step_ratio": _value(np.abs(theta) / 1e-3, hint="one entry per coordinate: |theta_1 - theta_0| / lr"),
    }


def _amsgrad_counterexample():
    T = 3000
    x_adam, x_amsgrad = ag.reference_online(False, T), ag.reference_online(True, T)
    grads = np.array([ag.online_gradient(t) for t in range(1, T + 1)])
    beta2s = [0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99]
    low, high = 0.1, 0.9
    while high - low > 1e-12:
        middle = (low + high) / 2
        low, high = (middle, high) if ag.net_move_formula(middle) > 0 else (low, middle)
    return {
        "amsgrad_step": ag.amsgrad_step_spec(),
        "run_online": ag.run_online_spec(keep_max=True, helpers="Question 1"),
        "run_online_adam": ag.run_online_spec(keep_max=False, helpers="Question 1"),
        "regret_adam": _value(np.mean(grads * (x_adam + 1)), 1e-8, "average_regret(x_adam)"),
        "regret_amsgrad": _value(np.mean(grads * (x_amsgrad + 1)), 1e-8, "average_regret(x_amsgrad)"),
        "adam_final_mean": _value([ag.reference_online(False, T, beta2=b)[-300:].mean() for b in beta2s], 1e-8,
                                  "one entry per beta2 in beta2s: the mean of Adam's last 300 points"),
        "net_move": ag.net_move_spec(),
        "critical_beta2": _value((low + high) / 2, 1e-5, "bisect net_move on [0.1, 0.9] to within 1e-6"),
    }


def _momentum_quadratic():
    a, b = ag.VALLEY["a"], ag.VALLEY["b"]
    kappa = b / a
    grad = ag.checks.PROBLEMS["valley"]
    lrs, mus = np.linspace(0.002, 0.08, 40), np.linspace(0.0, 0.95, 39)
    grid = np.array([[ag.rate_formula(lr, mu, [a, b]) for mu in mus] for lr in lrs])
    i, j = np.unravel_index(np.argmin(grid), grid.shape)
    alpha_star = 4 / (np.sqrt(a) + np.sqrt(b)) ** 2
    mu_star = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    runs = [(2 / (a + b), 0.0, False), (0.3 / b, 0.9, False), (alpha_star, mu_star, False),
            (1 / b, (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), True)]
    final = [ag.valley_loss(ag._momentum_loop(grad, ag.VALLEY["x0"], 60, lr, mu, nesterov)[-1])
             for lr, mu, nesterov in runs]
    configs = [(0.01, 0.0), (0.001, 0.9), (0.01, 0.9)]
    per_seed = [[ag.noisy_stationary_loss(lr, mu, 1.0, [seed], 20000, 2000) for seed in range(10)]
                for lr, mu in configs]
    questions = {"heavy_ball_step": "Question 1", "nesterov_step": "Question 1"}
    return {
        "heavy_ball_step": ag.momentum_step_spec(False),
        "nesterov_step": ag.momentum_step_spec(True),
        "run_momentum": ag.run_momentum_spec(False, helpers=questions),
        "run_momentum_nesterov": ag.run_momentum_spec(True, helpers=questions),
        "iteration_matrix": ag.iteration_matrix_spec(),
        "rate": ag.rate_spec(),
        "rate_gd": _value(ag.rate_formula(2 / (a + b), 0.0, [a, b]), 1e-9),
        "rate_chapter": _value(ag.rate_formula(0.3 / b, 0.9, [a, b]), 1e-9),
        "best_on_grid": _value([lrs[i], mus[j], grid[i, j]], 1e-9, "(alpha, mu, rate) at the smallest rate on the grid"),
        "alpha_star": _value(alpha_star, 1e-12),
        "mu_star": _value(mu_star, 1e-12),
        "rate_star": _value(ag.rate_formula(alpha_star, mu_star, [a, b]), 1e-6,
                            "at the optimum the two eigenvalues coincide, so eigvals is accurate to about 1e-8"),
        "final_losses": _value(final, 1e-8, "the loss after 60 steps, in the order of the question"),
        "stationary_loss": ag.stationary_loss_spec(),
        "floors": _value([np.mean(p) for p in per_seed], 1e-9),
        "floor_errors": _value([np.std(p, ddof=1) / np.sqrt(10) for p in per_seed], 1e-9),
    }


def _bias_correction_sympy():
    import sympy as sp

    t = sp.Symbol("t", integer=True, positive=True)
    beta1, beta2 = sp.symbols("beta1 beta2", positive=True)
    mu, s, sigma, G = sp.Symbol("mu", real=True), sp.Symbol("s", positive=True), sp.Symbol("sigma", positive=True), \
        sp.Symbol("G", positive=True)
    points = [dict(t=1, beta1=0.9, beta2=0.999, mu=2.0, s=3.0, sigma=1.5, G=0.7),
              dict(t=3, beta1=0.5, beta2=0.8, mu=-1.0, s=0.25, sigma=0.5, G=2.0),
              dict(t=7, beta1=0.95, beta2=0.99, mu=0.3, s=5.0, sigma=3.0, G=1e-3)]
    rng = np.random.default_rng(0)
    n_runs, T, mu_value, sigma_value, delta_value = 4000, 40, 0.5, 2.0, 0.01
    noise = sigma_value * rng.standard_normal((n_runs, T))
    drift = mu_value + delta_value * np.arange(1, T + 1) + noise
    drift_error = ag.simulate_formula(drift, 0.9, 0.99)[1][:, -1].mean() - (mu_value + delta_value * T)
    return {
        "expected_m": ag.expression_spec((1 - beta1**t) * mu, points),
        "correction_m": ag.expression_spec(1 - beta1**t, points, "E[m_t] = correction_m * mu; it must not depend on mu"),
        "expected_v": ag.expression_spec((1 - beta2**t) * s, points),
        "first_step_uncorrected": ag.expression_spec((1 - beta1) / sp.sqrt(1 - beta2), points,
                                                     "the gradient's magnitude G cancels"),
        "first_step_uncorrected_default": _value(0.1 / np.sqrt(0.001), 1e-9),
        "var_m": ag.expression_spec(sigma**2 * (1 - beta1) * (1 - beta1 ** (2 * t)) / (1 + beta1), points),
        "var_m_limit": ag.expression_spec(sigma**2 * (1 - beta1) / (1 + beta1), points),
        "n_effective": ag.expression_spec((1 + beta1) / (1 - beta1), points),
        "lag": ag.expression_spec(beta1 / (1 - beta1), points, "the average age: sum over k of weight times k"),
        "lag_at_09": _value(9.0, 1e-9),
        "simulate": ag.simulate_spec(),
        "drift_error": _value(drift_error, 1e-9, "the mean over the runs of m_hat at the last step, minus 0.5 + 0.01 * 40"),
    }


def _tuning_experiment():
    from adamedu import SGD, Adam, theory

    lrs, beta1s = ag.LOGREG_LRS, ag.LOGREG_BETA1S
    table = np.array([[[ag.train_digits("logreg", "adam", lr, seed, 300, 25, beta1=b1)[1][-1] for seed in (0, 1)]
                       for lr in lrs] for b1 in beta1s])
    best = [lrs[int(np.argmin(table[k].mean(axis=1)))] for k in range(2)]
    problem = ag.digits_problem("logreg")
    final = np.array([[problem.test_loss(ag.train_digits("logreg", "adam", lr, seed, 300, 25, beta1=b1)[0])
                       for seed in (100, 101, 102, 103, 104)] for b1, lr in zip(beta1s, best)])
    c = np.array([1e3, 1e-3])
    gap = ag.checks.rel_error(ag.scaled_path(Adam, np.ones(2), 60, lr=0.3), ag.scaled_path(Adam, c, 60, lr=0.3))
    # The largest step of the beta1 = 0.9 run at its best learning rate, seed 0.
    fit, _ = ag.split_indices(len(problem.y_train))
    x = problem.x0.copy()
    opt = Adam([x], lr=best[1], betas=(0.9, 0.999))
    rng = np.random.default_rng(0)
    largest = 0.0
    for _ in range(300):
        before = x.copy()
        opt.step([problem.batch_grad(x, rng.choice(fit, size=32, replace=False))])
        largest = max(largest, float(np.max(np.abs(x - before))))
    return {
        "train": ag.train_logreg_spec(),
        "tuning_entries": _value(table[[0, 1], [2, 4], [0, 1]], 1e-9,
                                 "tuning_table[0, 2, 0] and tuning_table[1, 4, 1], the final validation losses"),
        "final_test": _value(final, 1e-9, "row = beta1 at its best_lr, column = evaluation seed"),
        "gap_adam": _value(gap, 1e-6),
        "worst_step_ratio": _value(theory.worst_case_step_ratio(0.9, 0.999, 1000), 1e-9,
                                   "the size of the last step only, with lr = 1 and eps = 0"),
        "max_step_ratio": _value(largest / best[1], 1e-9, "the largest |x_t - x_{t-1}| over steps and coordinates, / lr"),
        "_reference_tuning_table": table, "_reference_best_lr": best, "_reference_final_test": final,
    }


def _digits_training():
    problem = ag.digits_problem("mlp")
    settings = ag.MLP_SETTINGS
    names = list(ag.MLP_GRIDS)

    def run(name, lr, seed):
        return ag._mlp(name, lr, seed, settings["steps"], settings["warmup"], settings["eval_every"])

    table = np.array([[[run(name, lr, seed)[1][-1] for seed in (0, 1)] for lr in ag.MLP_GRIDS[name]] for name in names])
    chosen = [ag.MLP_GRIDS[name][int(np.argmin(table[o].mean(axis=1)))] for o, name in enumerate(names)]
    params = [[run(name, lr, seed)[0] for seed in (100, 101, 102, 103, 104)] for name, lr in zip(names, chosen)]
    return {
        "warmup_cosine": ag.warmup_cosine_spec(),
        "train": ag.train_mlp_spec(),
        "tuning_entries": _value(table[[0, 1, 2], [2, 1, 3], [0, 1, 0]], 1e-9,
                                 "tuning_table[0, 2, 0], [1, 1, 1] and [2, 3, 0], final validation losses"),
        "final_accuracy": _value([[problem.accuracy(x) for x in row] for row in params], 1e-12,
                                 "row = optimizer at its chosen lr, column = evaluation seed"),
        "final_test_loss": _value([[problem.test_loss(x) for x in row] for row in params], 1e-9),
        "_reference_tuning_table": table, "_reference_chosen_lr": chosen,
    }


_BUILDERS = {
    "digits_training": _digits_training,
    "tuning_experiment": _tuning_experiment,
    "bias_correction_sympy": _bias_correction_sympy,
    "momentum_quadratic": _momentum_quadratic,
    "adam_from_scratch": _adam_from_scratch,
    "amsgrad_counterexample": _amsgrad_counterexample,
}


def stored_values(name: str) -> dict:
    """The probes of assignment ``name`` (an empty dict for an assignment without stored probes)."""
    builder = _BUILDERS.get(name)
    return builder() if builder else {}
