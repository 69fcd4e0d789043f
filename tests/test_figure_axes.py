"""What a reader sees in the figures: pass@N in % with labelled y axes, whole epochs, no offset labels,
a suptitle clear of the panel titles, both Figure 1a/b groups visible, titles that name the data."""
import json

import numpy as np
import pytest

from src.figures.comparison import plot_comparison
from src.figures.fig1_confidence import plot_confidence_factor, plot_final_confidence_by_budget
from src.figures.plotting import plt
from src.figures.run_curves import plot_greedy_confidence
from src.utils.run_dir import RunDir


def write_run(root, name, objective, coverages, rows=()):
    run = RunDir(root / name)
    (run.path / "eval").mkdir(parents=True)
    run.update_meta(objective=objective, status="completed", resolved_source="math500")
    run.metrics_file.write_text("".join(json.dumps({"epoch": e, "test": {"coverage": c}}) + "\n"
                                        for e, c in enumerate(coverages, 1)))
    run.eval_rows_file(len(coverages)).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def rendered(fig):
    fig.canvas.draw()
    return fig


@pytest.fixture(params=[1, 5], ids=["one_epoch", "five_epochs"])
def comparison(request, tmp_path):
    epochs = request.param
    cov = [{"1": 0.0000058 + 0.01 * e, "16": 0.2, "256": 0.41, "4096": 0.7} for e in range(epochs)]
    runs = [write_run(tmp_path, "ce", {"name": "cross_entropy"}, cov),
            write_run(tmp_path, "dco", {"name": "dco", "n": 256}, cov)]
    fig = rendered(plot_comparison(runs))
    yield fig, epochs
    plt.close(fig)


def test_comparison_reads_in_percent_with_labelled_axes_whole_epochs_and_no_offsets(comparison):
    fig, epochs = comparison
    final, *by_epoch = fig.axes
    assert final.get_ylim() == (0, 100) and final.get_ylabel() == "pass@N (%)"
    for ax in by_epoch:
        assert ax.get_ylabel().endswith("(%)") and ax.get_xlabel() == "epoch"
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks) and 1 in ticks
        assert ax.yaxis.get_offset_text().get_text() == "" and ax.xaxis.get_offset_text().get_text() == ""
    pass_at_256 = by_epoch[2].lines[0].get_ydata()
    assert np.allclose(pass_at_256, 41.0)  # values in %, not fractions


def test_comparison_suptitle_clears_every_panel_title(comparison):
    fig, _ = comparison
    renderer = fig.canvas.get_renderer()
    suptitle_bottom = fig._suptitle.get_window_extent(renderer).y0
    for ax in fig.axes:  # a visible gap (3 px), not glyphs touching
        assert suptitle_bottom - ax.title.get_window_extent(renderer).y1 >= 3, ax.get_title()


def test_figure_1ab_shows_each_group_on_its_own_scale():
    """3 correct answers against 200 wrong ones: each group gets a box per epoch, sized by its own spread."""
    rng = np.random.default_rng(0)
    rows = {e: [{"greedy_logp": float(-rng.gamma(2)), "greedy_correct": i < 3} for i in range(203)] for e in (1, 2)}
    fig = rendered(plot_greedy_confidence(rows, "CE — data: math500"))
    (ax,) = fig.axes
    boxes = [p for p in ax.patches]
    assert len(boxes) == 4  # correct and wrong, at each of the two epochs
    heights = [b.get_path().get_extents().height for b in boxes]
    assert min(heights) > 0.05 * max(heights)  # the small group is not flattened against the large one
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1\n3/203", "2\n3/203"]
    plt.close(fig)


def test_figure_1c_and_1d_titles_name_their_data(tmp_path):
    rows = [{"greedy_logp": -1.0, "greedy_correct": False}, {"greedy_logp": -2.0, "greedy_correct": True}]
    runs = [write_run(tmp_path, "ce", {"name": "cross_entropy"}, [{"1": 0.1}], rows)]
    fig_c, fig_d = plot_confidence_factor(), plot_final_confidence_by_budget(runs)
    assert "closed form" in fig_c.axes[0].get_title()
    assert "data: math500" in fig_d.axes[0].get_title()
    plt.close(fig_c), plt.close(fig_d)
