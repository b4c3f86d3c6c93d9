"""Notebook 04's teaching claims that can be tested outside it, and its exercise self-checks."""
import math

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from utils.generated import narma

from solutions import nb04
from utils.checks import check_equal, check_function


@pytest.mark.parametrize("alpha", [0.5, 0.9, 0.97])
def test_leaky_unit_impulse_response_has_unit_gain_and_mean_delay(alpha):
    mu, response = 0.0, []
    for t in range(2000):
        mu = alpha * mu + (1 - alpha) * (1.0 if t == 0 else 0.0)
        response.append(mu)
    response = np.array(response)
    assert abs(response.sum() - 1) < 1e-9
    assert abs((np.arange(2000) * response).sum() - alpha / (1 - alpha)) < 1e-6
    assert abs(int(np.argmax(response < response[0] / math.e)) - 1 / (1 - alpha)) <= 1


def test_half_life_solution():
    assert nb04.half_life(0.95) == 14
    assert 0.95 ** 14 <= 0.5 < 0.95 ** 13
    assert nb04.half_life(0.5) == 1


def test_ridge_with_intercept_solution_equals_sklearn():
    for Z, y, beta in nb04.ridge_cases(3):
        w, b = nb04.ridge_with_intercept(Z, y, beta)
        reference = Ridge(alpha=beta, fit_intercept=True).fit(Z, y)
        assert np.allclose(w, reference.coef_, atol=1e-8)
        assert abs(b - reference.intercept_) < 1e-8


def test_small_esn_beats_the_mean_on_narma10():
    u, y = narma(1400, seed=1)
    states = np.empty((len(u), 60))
    rng = np.random.default_rng(1)
    W = rng.uniform(-1, 1, (60, 60))
    W *= 0.9 / np.abs(np.linalg.eigvals(W)).max()
    W_in = rng.uniform(-0.5, 0.5, (60, 2))
    x = np.zeros(60)
    for t, u_t in enumerate(u):
        x = np.tanh(W_in[:, 0] + W_in[:, 1] * u_t + W @ x)
        states[t] = x
    Z = np.hstack([np.ones((len(u), 1)), u[:, None], states])
    train, test = slice(100, 1000), slice(1000, 1400)
    w = np.linalg.solve(Z[train].T @ Z[train] + 1e-6 * np.eye(Z.shape[1]), Z[train].T @ y[train])
    nrmse = np.sqrt(np.mean((Z[test] @ w - y[test]) ** 2)) / np.std(y[test])
    assert nrmse < 0.7
    sk = Ridge(alpha=1e-6, fit_intercept=False).fit(Z[train], y[train])
    assert np.abs(sk.predict(Z[test]) - Z[test] @ w).max() < 1e-4 * y.std()


def test_memory_capacity_is_bounded_and_grows_with_spectral_radius():
    (states_a, u, k_a, beta), (states_b, _, k_b, _) = nb04.memory_cases(0)
    short = nb04.memory_capacity(states_a, u, 20, beta)
    long = nb04.memory_capacity(states_b, u, 20, beta)
    assert 0 < short < long <= 20          # at most one unit of capacity per delay
    assert long <= states_b.shape[1]      # and at most the number of units (Jaeger 2002)


# ------------------------------------------------------------------ the notebook's self-checks
def test_exercise_1_check_passes_solution_and_fails_wrong_answer():
    assert check_equal(nb04.half_life(0.95), nb04.half_life(0.95), raise_on_fail=True)
    assert not check_equal(13, nb04.half_life(0.95))
    assert not check_equal(20, nb04.half_life(0.95))         # the time constant, not the half-life
    assert not check_equal(..., nb04.half_life(0.95))


def test_exercise_2_check_passes_solution_and_fails_wrong_answer():
    cases = nb04.ridge_cases(0)
    assert check_function(nb04.ridge_with_intercept, nb04.ridge_with_intercept, cases=cases, atol=1e-6,
                          raise_on_fail=True)

    def penalised_bias(Z, y, beta):   # the notebook's ridge_readout with a column of ones
        Z1 = np.hstack([np.ones((len(Z), 1)), Z])
        w = np.linalg.solve(Z1.T @ Z1 + beta * np.eye(Z1.shape[1]), Z1.T @ y)
        return w[1:], float(w[0])

    def no_bias(Z, y, beta):
        return np.linalg.solve(Z.T @ Z + beta * np.eye(Z.shape[1]), Z.T @ y), 0.0

    assert not check_function(penalised_bias, nb04.ridge_with_intercept, cases=cases, atol=1e-6)
    assert not check_function(no_bias, nb04.ridge_with_intercept, cases=cases, atol=1e-6)


def test_exercise_3_check_passes_solution_and_fails_wrong_answer():
    cases = nb04.memory_cases(0)
    assert check_function(nb04.memory_capacity, nb04.memory_capacity, cases=cases, atol=1e-6,
                          raise_on_fail=True)

    def unsquared(states, u, max_delay, beta=1e-6):
        X = states[max_delay:]
        total = 0.0
        for k in range(1, max_delay + 1):
            target = u[max_delay - k:len(u) - k]
            prediction = X @ np.linalg.solve(X.T @ X + beta * np.eye(X.shape[1]), X.T @ target)
            total += np.corrcoef(prediction, target)[0, 1]
        return total

    def shifted_wrong_way(states, u, max_delay, beta=1e-6):   # predicts future inputs instead of past ones
        X = states[:len(u) - max_delay]
        total = 0.0
        for k in range(1, max_delay + 1):
            target = u[k:len(u) - max_delay + k]
            prediction = X @ np.linalg.solve(X.T @ X + beta * np.eye(X.shape[1]), X.T @ target)
            total += np.corrcoef(prediction, target)[0, 1] ** 2
        return total

    assert not check_function(unsquared, nb04.memory_capacity, cases=cases, atol=1e-6)
    assert not check_function(shifted_wrong_way, nb04.memory_capacity, cases=cases, atol=1e-6)
