"""The classical baseline's classifier: the window feature vectors
(``eeg_hba.preprocessing.window_features``) into a soft-target classifier.

What a clinical data scientist tries first, and the yardstick every CNN must beat.
``SoftTargetClassifier`` fits a scikit-learn estimator to vote distributions by
sample-weight expansion; ``ClassicalModel`` holds one per training seed and fold, as the
ensemble and the served model use it, saved in skops' format (no pickle). No Kedro
imports.
"""



import numpy as np
import skops.io
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from eeg_hba.hms.layout import (
    CLASSES,
)

CLASSIFIER_KINDS = ("logistic_regression", "gradient_boosting")


def _soft_targets(targets: np.ndarray, n_rows: int) -> np.ndarray:
    table = np.asarray(targets, dtype=np.float64)
    if table.shape != (n_rows, len(CLASSES)):
        raise ValueError(
            f"targets must have shape ({n_rows}, {len(CLASSES)}) (one vote distribution per "
            f"feature row, classes in CLASSES order), got {table.shape}"
        )
    bad = np.flatnonzero(
        ~np.isfinite(table).all(axis=1) | (table < 0).any(axis=1) | ~np.isclose(table.sum(1), 1)
    )
    if bad.size:
        raise ValueError(
            f"target rows {bad[:10].tolist()} are not probability distributions "
            "(finite, non-negative, summing to 1)"
        )
    return table


class SoftTargetClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier fitted to vote distributions instead of labels.

    Each training row is repeated once per class it has votes for, labelled with that
    class and weighted by its vote share (times the row's ``sample_weight``): the weighted
    log-loss is then the cross-entropy with the soft targets, whose minimum is the
    minimum of the KL divergence the competition scores.

    Parameters
    ----------
    kind : {"logistic_regression", "gradient_boosting"}
        StandardScaler + multinomial LogisticRegression, or HistGradientBoostingClassifier
        (early stopping off, so the number of trees is ``boosting_max_iter``).
    seed : int
        ``random_state`` of the estimator; the same seed gives the same predictions.
    logistic_c : float
        Inverse L2 strength of the logistic regression (sklearn's ``C``).
    absent_class_floor : float
        Probability given to a class with no votes in the training targets before the
        rows are renormalised (the estimator knows nothing of such a class).
    n_threads : int or None
        OpenMP/BLAS threads while fitting and predicting (None: the libraries' default,
        all cores). One is the default: at this project's sizes it is fast, and gradient
        boosting on cores that other processes keep busy ran 30 times slower with two
        threads than with one. Results do not depend on it.
    """

    def __init__(
        self,
        kind: str = "logistic_regression",
        seed: int = 0,
        logistic_c: float = 0.1,
        logistic_max_iter: int = 2000,
        boosting_learning_rate: float = 0.05,
        boosting_max_iter: int = 200,
        boosting_max_leaf_nodes: int = 15,
        boosting_min_samples_leaf: int = 20,
        boosting_l2_regularization: float = 1.0,
        absent_class_floor: float = 1e-4,
        n_threads: int | None = 1,
    ) -> None:
        self.kind = kind
        self.seed = seed
        self.logistic_c = logistic_c
        self.logistic_max_iter = logistic_max_iter
        self.boosting_learning_rate = boosting_learning_rate
        self.boosting_max_iter = boosting_max_iter
        self.boosting_max_leaf_nodes = boosting_max_leaf_nodes
        self.boosting_min_samples_leaf = boosting_min_samples_leaf
        self.boosting_l2_regularization = boosting_l2_regularization
        self.absent_class_floor = absent_class_floor
        self.n_threads = n_threads

    def _estimator(self) -> Pipeline | HistGradientBoostingClassifier:
        if self.kind == "logistic_regression":
            return make_pipeline(
                StandardScaler(),
                LogisticRegression(
                    C=self.logistic_c, max_iter=self.logistic_max_iter, random_state=self.seed
                ),
            )
        if self.kind == "gradient_boosting":
            return HistGradientBoostingClassifier(
                learning_rate=self.boosting_learning_rate,
                max_iter=self.boosting_max_iter,
                max_leaf_nodes=self.boosting_max_leaf_nodes,
                min_samples_leaf=self.boosting_min_samples_leaf,
                l2_regularization=self.boosting_l2_regularization,
                early_stopping=False,
                random_state=self.seed,
            )
        raise ValueError(f"kind must be one of {CLASSIFIER_KINDS}, got {self.kind!r}")

    def fit(
        self,
        features: np.ndarray,
        targets: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> "SoftTargetClassifier":
        """Fit to ``targets`` (n, 6): each row a vote distribution in ``CLASSES`` order."""
        features = np.asarray(features, dtype=np.float64)
        targets = _soft_targets(targets, len(features))
        weights = np.ones(len(features)) if sample_weight is None else np.asarray(sample_weight)
        rows, labels = np.nonzero(targets)  # only the classes a row has votes for
        expanded_weight = targets[rows, labels] * weights[rows]
        if np.unique(labels).size < 2:
            raise ValueError(
                f"the targets give votes to only {np.unique(labels).size} class; "
                "a classifier needs at least two"
            )
        estimator = self._estimator()
        if self.kind == "logistic_regression":
            fit_params = {f"{step}__sample_weight": expanded_weight
                          for step in estimator.named_steps}  # fmt: skip
        else:
            fit_params = {"sample_weight": expanded_weight}
        with threadpool_limits(self.n_threads):
            self.estimator_ = estimator.fit(features[rows], labels, **fit_params)
        self.classes_ = np.array(CLASSES)
        self.n_features_in_ = features.shape[1]
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """(n, 6) probabilities in ``CLASSES`` order, rows summing to 1."""
        with threadpool_limits(self.n_threads):
            known = self.estimator_.predict_proba(np.asarray(features, dtype=np.float64))
        probabilities = np.full((len(known), len(CLASSES)), self.absent_class_floor)
        probabilities[:, self.estimator_.classes_] = known
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The most probable class name of each row."""
        return self.classes_[np.argmax(self.predict_proba(features), axis=1)]


class ClassicalModel:
    """The classical baseline as the ensemble, the submission and the served model use
    it: the mean probabilities of its classifiers, one per training seed and validation
    fold, as its held-out scores average them."""

    def __init__(self, classifiers: list[SoftTargetClassifier]) -> None:
        self.classifiers = classifiers

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """(n, 6) probabilities in ``CLASSES`` order: the mean over the classifiers."""
        return np.mean([c.predict_proba(features) for c in self.classifiers], axis=0)


#: The types of a saved ``ClassicalModel`` that skops does not trust by itself. Loading
#: refuses a file holding any other: the list lives here, not in the file it guards.
TRUSTED_TYPES = [
    "eeg_hba.training.classical.ClassicalModel",
    "eeg_hba.training.classical.SoftTargetClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]


def dump_classical_model(model: ClassicalModel) -> bytes:
    """``model`` in skops' format: plain state, so loading it runs no code from the file."""
    return skops.io.dumps(model)


def load_classical_model(data: bytes) -> ClassicalModel:
    """A model ``dump_classical_model`` wrote; a type outside ``TRUSTED_TYPES`` raises
    skops' ``UntrustedTypesFoundException`` naming it."""
    return skops.io.loads(data, trusted=TRUSTED_TYPES)
