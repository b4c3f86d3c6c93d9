"""Reference solutions for notebook 04 (leaky units and echo state networks)."""
import numpy as np

EXERCISES = {1: ["guaranteed_radius"], 2: ["ridge_with_intercept"], 3: ["memory_capacity"]}


# ------------------------------------------------------------------ exercise 1
def guaranteed_radius(W):
    """The largest spectral radius to which W can be rescaled (rho * W / rho(W)) with its largest
    singular value still at most 1: rho(W) / sigma_max(W). Up to there every reservoir step is a
    contraction, whatever the input (Jaeger 2001)."""
    spectral_radius = np.abs(np.linalg.eigvals(W)).max()
    return float(spectral_radius / np.linalg.norm(W, 2))


# ------------------------------------------------------------------ exercise 2
def ridge_with_intercept(Z, y, beta):
    """Ridge regression with an unpenalised bias: (w, b), as sklearn's Ridge(fit_intercept=True)."""
    Z_mean, y_mean = Z.mean(axis=0), y.mean()
    Zc, yc = Z - Z_mean, y - y_mean
    w = np.linalg.solve(Zc.T @ Zc + beta * np.eye(Z.shape[1]), Zc.T @ yc)
    return w, float(y_mean - Z_mean @ w)


# ------------------------------------------------------------------ exercise 3
def memory_capacity(states, u, max_delay, beta=1e-6):
    """Sum over k = 1..max_delay of the squared correlation between u[t-k] and its ridge reconstruction."""
    X = states[max_delay:]
    gram = X.T @ X + beta * np.eye(X.shape[1])
    total = 0.0
    for k in range(1, max_delay + 1):
        target = u[max_delay - k:len(u) - k]
        prediction = X @ np.linalg.solve(gram, X.T @ target)
        total += np.corrcoef(prediction, target)[0, 1] ** 2
    return float(total)


# ------------------------------------------------------------------ inputs for the self-checks
def reservoir_matrix_cases(seed=0):
    """(W,) for exercise 1: uniform random matrices not scaled to spectral radius 1, and a symmetric
    one (for which sigma_max equals the spectral radius)."""
    rng = np.random.default_rng(seed)
    cases = [(rng.uniform(-1, 1, (n, n)) * scale,) for n, scale in ((30, 1.0), (50, 0.2), (10, 3.0))]
    S = rng.normal(size=(20, 20))
    cases.append(((S + S.T) / 2,))
    return cases


def ridge_cases(seed=0):
    """(Z, y, beta) with columns of non-zero mean and a target with an offset."""
    rng = np.random.default_rng(seed)
    cases = []
    for n, d, beta in ((40, 3, 0.1), (100, 8, 1.0), (60, 5, 1e-3)):
        Z = rng.normal(size=(n, d)) + rng.normal(size=d)        # columns with non-zero means
        y = Z @ rng.normal(size=d) + 3.0 + 0.1 * rng.normal(size=n)
        cases.append((Z, y, beta))
    return cases
