"""The course's assignments: one record each, the single source for the pages, the guide and the tools.

The questions and their points are not repeated here: they are read from the source notebooks
(:func:`coursekit.pages.questions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Assignment", "ASSIGNMENTS", "by_name", "names", "OTTER_REQUIREMENT"]

#: What every student notebook needs to run its checks.
OTTER_REQUIREMENT = "otter-grader>=7,<8"


@dataclass(frozen=True)
class Assignment:
    """One assignment: what it teaches, what it needs and how long it takes."""

    name: str  #: file stem of the source notebook and of the page
    number: int
    title: str
    label: str  #: the page's MyST label
    summary: str  #: what students do, in one line (for the overview tables)
    prerequisites: tuple[str, ...]  #: labels of the chapters to read first
    objectives: tuple[str, ...]  #: "After this assignment a student can ..."
    hours: float  #: estimated time for a student who has read the prerequisites
    compute_seconds: float  #: measured run time of the complete notebook (reference solution)
    #: import name -> pip requirement, for what the notebook imports besides the standard library
    modules: dict = field(default_factory=dict)
    optional: bool = False
    #: class grading: seconds one cell may run, and seconds one submission may take in all
    cell_timeout: int = 120
    submission_timeout: int = 600

    @property
    def requirements(self) -> list[str]:
        """What a student installs (pip requirements), otter-grader first."""
        return [OTTER_REQUIREMENT] + [r for m, r in self.modules.items() if m != "otter"]


NUMPY = {"numpy": "numpy>=1.26"}
ADAMEDU = {"adamedu": "adamedu"}  # brings NumPy, Matplotlib, SymPy and scikit-learn

ASSIGNMENTS = (
    Assignment(
        name="adam_from_scratch", number=1, title="Adam from scratch", label="assign-adam-from-scratch",
        summary="implement Adam in NumPy: moments, bias correction, one step, a training loop, an optimizer class",
        prerequisites=("chap-adam-algorithm", "chap-bias-correction"),
        objectives=(
            "write each line of Adam's Algorithm 1 as a vectorised NumPy expression",
            "say what state Adam keeps between steps (the raw moments and one step count) and why",
            "turn an update rule into a training loop and an optimizer object that updates its "
            "parameters in place, as `torch.optim` does",
            "explain why the first step has size `lr` whatever the gradient's scale, and where `eps` breaks this",
            "read a failing check: the part, the step and the likely mistake",
        ),
        hours=2.5, compute_seconds=5, modules=dict(NUMPY), cell_timeout=60, submission_timeout=300),
    Assignment(
        name="bias_correction_sympy", number=2, title="Deriving the bias correction with SymPy",
        label="assign-bias-correction-sympy",
        summary="derive the bias, variance and lag of Adam's moving averages with SymPy; confirm them by simulation",
        prerequisites=("chap-bias-correction",),
        objectives=(
            "unroll a moving average into a weighted sum and evaluate it in closed form with SymPy",
            "derive $\\mathbb{E}[m_t] = (1-\\beta_1^t)\\mu$, the variance of $m_t$, and the first step without the correction",
            "quantify the lag of an exponential average when the mean drifts",
            "confirm a derivation by simulation within standard errors",
        ),
        hours=2.5, compute_seconds=15, modules={**NUMPY, "sympy": "sympy>=1.12"}, cell_timeout=120,
        submission_timeout=600),
    Assignment(
        name="momentum_quadratic", number=3, title="Momentum on a quadratic, with and without noise",
        label="assign-momentum-quadratic",
        summary="analyse heavy ball and Nesterov on a quadratic through eigenvalues; measure momentum under noise",
        prerequisites=("chap-momentum", "chap-noise"),
        objectives=(
            "implement heavy-ball and Nesterov momentum with the conventions of `torch.optim.SGD`",
            "analyse gradient descent and heavy ball on a quadratic through the eigenvalues of the "
            "iteration matrix, and find the best step size and momentum",
            "show that tuned momentum converges at the rate $(\\sqrt\\kappa - 1)/(\\sqrt\\kappa + 1)$ on a "
            "deterministic quadratic, far faster than gradient descent",
            "measure, over seeds, that under gradient noise momentum behaves like a larger learning rate",
        ),
        hours=3, compute_seconds=21, modules=dict(NUMPY), cell_timeout=120, submission_timeout=600),
    Assignment(
        name="tuning_experiment", number=4, title="Tuning Adam honestly", label="assign-tuning-experiment",
        summary="tune Adam's learning rate and $\\beta_1$ with a validation split, a budget and seeds; test two of the book's results",
        prerequisites=("chap-noise", "chap-rescaling-invariance", "chap-trust-region", "chap-paper-experiments"),
        objectives=(
            "tune a learning rate and $\\beta_1$ on a validation split with a fixed budget and several seeds, "
            "and report the test result of the chosen setting with its spread",
            "tell a real difference from seed-to-seed noise",
            "demonstrate Adam's invariance to rescaled gradients and where $\\epsilon$ breaks it",
            "compare measured step sizes with the paper's bound and the exact worst case",
            "justify every choice in writing",
        ),
        hours=3, compute_seconds=17, modules=dict(ADAMEDU), cell_timeout=300, submission_timeout=900),
    Assignment(
        name="digits_training", number=5, title="Training a network on real data",
        label="assign-digits-training",
        summary="train a network on the digits with SGD, Adam and AdamW under warmup and cosine decay; defend a choice",
        prerequisites=("chap-warmup-schedules", "chap-practice-at-scale", "chap-paper-experiments"),
        objectives=(
            "implement a warmup-then-cosine learning-rate schedule",
            "train a two-layer network on handwritten digits with minibatches, SGD with momentum, Adam "
            "and AdamW",
            "tune each optimizer fairly: its own learning rates, the same budget, a validation split, "
            "several seeds",
            "report a choice with test accuracy and spread, and justify it",
        ),
        hours=4, compute_seconds=50, modules=dict(ADAMEDU), cell_timeout=600, submission_timeout=1500),
    Assignment(
        name="amsgrad_counterexample", number=6, title="AMSGrad and the counterexample of Reddi et al.",
        label="assign-amsgrad-counterexample",
        summary="implement AMSGrad and reproduce Reddi et al.'s counterexample; find the $\\beta_2$ where Adam fails",
        prerequisites=("chap-failures",), optional=True,
        objectives=(
            "implement AMSGrad as `torch.optim` does (the maximum of the raw $v_t$, bias-corrected in the step)",
            "reproduce the online problem on which Adam settles at the worst point, with projection and "
            "a decaying step",
            "measure average regret, and find for which $\\beta_2$ the failure disappears",
            "explain the failure from the sizes of the steps in one cycle",
        ),
        hours=2, compute_seconds=9, modules=dict(NUMPY), cell_timeout=120, submission_timeout=600),
)


def names() -> list[str]:
    """The assignments in the order of the course."""
    return [a.name for a in ASSIGNMENTS]


def by_name(name: str) -> Assignment:
    for a in ASSIGNMENTS:
        if a.name == name:
            return a
    raise KeyError(f"unknown assignment {name!r}; choose from {names()}")
