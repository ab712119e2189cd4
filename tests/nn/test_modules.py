"""tinydet.nn modules against slow, obviously-correct references written here, and their channel rules."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import tinydet  # noqa: F401  (registers the modules)
from tinydet.nn import MODULES
from tinydet.nn.asff import ASFF
from tinydet.nn.c2f_cbam import C2fCBAM
from tinydet.nn.c3k2_cbam import C3k2CBAM
from tinydet.nn.cbam import CBAM
from tinydet.nn.fusion import BiFusion
from tinydet.nn.rules import Scaling
from tinydet.nn.spd import SPDConv


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomize(module: torch.nn.Module) -> torch.nn.Module:
    """Random weights and BN statistics, eval mode: no layer is an identity by accident."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    return module.eval()


# ---------------------------------------------------------------- CBAM
def _reference_seed_cbam(x, fc_w, fc_b, spatial_w):
    """The seed's CBAM (ultralytics' variant, docs/models.md), written out one sample and channel at a time:
    channel gate sigmoid(W mean(x) + b) with no reduction, then spatial gate sigmoid(conv7x7([mean_c, max_c]))."""
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        means = torch.stack([x[b, c].mean() for c in range(x.shape[1])])
        gate = torch.sigmoid(fc_w.reshape(x.shape[1], x.shape[1]) @ means + fc_b)
        y = torch.stack([x[b, c] * gate[c] for c in range(x.shape[1])])
        maps = torch.stack([y.mean(0), y.amax(0)])[None]
        spatial = torch.sigmoid(F.conv2d(maps, spatial_w, padding=spatial_w.shape[-1] // 2))[0, 0]
        out[b] = y * spatial
    return out


def test_seed_cbam_is_the_seeds_module():
    """The seed variant computes the seed's CBAM (checked against the reference above), with ultralytics'
    parameter layout, so that weights trained with ultralytics' CBAM load into it."""
    from ultralytics.nn.modules import CBAM as UltralyticsCBAM

    ours = _randomize(CBAM(16))
    state = ours.state_dict()
    x = torch.randn(2, 16, 9, 7)
    expected = _reference_seed_cbam(x, state["channel_attention.fc.weight"], state["channel_attention.fc.bias"],
                                    state["spatial_attention.cv1.weight"])
    torch.testing.assert_close(ours(x), expected, rtol=1e-5, atol=1e-5)
    UltralyticsCBAM(16).load_state_dict(state)  # same keys and shapes, strict


def _reference_paper_cbam(x, w0, w1, spatial_w):
    """Woo et al. 2018, eq. 2 and 3, one sample and one channel at a time."""
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        avg = torch.stack([x[b, c].mean() for c in range(x.shape[1])])
        peak = torch.stack([x[b, c].max() for c in range(x.shape[1])])
        mlp = lambda v: w1 @ torch.relu(w0 @ v)  # noqa: E731
        channel_gate = torch.sigmoid(mlp(avg) + mlp(peak))
        refined = x[b] * channel_gate[:, None, None]
        pooled = torch.stack([refined.mean(0), refined.max(0).values])[None]
        spatial_gate = torch.sigmoid(F.conv2d(pooled, spatial_w, padding=spatial_w.shape[-1] // 2))[0, 0]
        out[b] = refined * spatial_gate
    return out


def test_paper_cbam_matches_the_papers_equations():
    m = _randomize(CBAM(32, variant="paper", reduction=16))
    x = torch.randn(2, 32, 6, 5)
    mlp = m.channel_attention.mlp
    w0, w1 = mlp[0].weight[:, :, 0, 0], mlp[2].weight[:, :, 0, 0]
    assert w0.shape == (2, 32) and w1.shape == (32, 2)  # reduction 16
    expected = _reference_paper_cbam(x, w0, w1, m.spatial_attention.cv1.weight)
    torch.testing.assert_close(m(x), expected, rtol=1e-5, atol=1e-5)


def test_cbam_variants_differ_and_bad_variant_is_refused():
    seed, paper = CBAM(64), CBAM(64, variant="paper")
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(seed) == 64 * 64 + 64 + 2 * 49  # 1x1 conv with bias, no reduction; 7x7 spatial conv
    assert count(paper) == 2 * 64 * 4 + 2 * 49  # shared MLP 64 -> 4 -> 64
    with pytest.raises(ValueError, match="variant"):
        CBAM(8, variant="woo")


# ---------------------------------------------------------------- C2f / C3k2 with CBAM
@pytest.mark.parametrize(
    "block, base_args",
    [(C2fCBAM, dict(n=2, shortcut=True)), (C3k2CBAM, dict(n=1, c3k=False)), (C3k2CBAM, dict(n=1, c3k=True))],
)
@pytest.mark.parametrize("variant", ["seed", "paper"])
def test_block_is_its_base_then_cbam_on_both_forward_paths(block, base_args, variant):
    m = _randomize(block(16, 32, variant=variant, **base_args))
    base = block.__mro__[2]  # C2f or C3k2
    x = torch.randn(1, 16, 8, 8)
    expected = m.cbam(base.forward(m, x))
    torch.testing.assert_close(m(x), expected)
    # ultralytics' exporter replaces `forward` by `forward_split`: attention must stay on that path too
    torch.testing.assert_close(m.forward_split(x), expected, rtol=1e-5, atol=1e-5)
    assert m.cbam.variant == variant


# ---------------------------------------------------------------- BiFusion
def test_bifusion_is_down_same_up_concatenated():
    m = _randomize(BiFusion([8, 16, 24], c_down=12))
    higher, same, lower = torch.randn(2, 8, 16, 12), torch.randn(2, 16, 8, 6), torch.randn(2, 24, 4, 3)
    out = m([higher, same, lower])
    assert out.shape == (2, 12 + 16 + 24, 8, 6)
    torch.testing.assert_close(out[:, :12], m.down(higher))
    torch.testing.assert_close(out[:, 12:28], same)
    up = lower.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)  # nearest x2, spelled out
    torch.testing.assert_close(out[:, 28:], up)
    assert m.down.conv.stride == (2, 2) and m.down.conv.kernel_size == (3, 3)


def test_bifusion_needs_three_inputs():
    with pytest.raises(ValueError, match="3 inputs"):
        BiFusion([8, 16], c_down=8)


# ---------------------------------------------------------------- ASFF
def _pyramid(channels=(8, 16, 32), size=16, batch=2):
    return [torch.randn(batch, c, size >> i, size >> i) for i, c in enumerate(channels)]


@pytest.mark.parametrize("level", [0, 1, 2])
def test_asff_output_shape_at_each_level(level):
    x = _pyramid()
    out = _randomize(ASFF([8, 16, 32], c2=20, level=level))(x)
    assert out.shape == (2, 20, 16 >> level, 16 >> level)


def test_asff_weights_are_a_per_pixel_softmax():
    m = _randomize(ASFF([8, 16, 32], c2=8, level=1))
    x = _pyramid()
    resized = [r(xi) for r, xi in zip(m.resize, x)]
    assert all(r.shape == (2, 16, 8, 8) for r in resized)
    logits = m.weight_logits(torch.cat([f(r) for f, r in zip(m.weight_features, resized)], 1))
    weights = logits.softmax(1)
    torch.testing.assert_close(weights.sum(1), torch.ones(2, 8, 8))
    fused = sum(weights[:, i : i + 1] * r for i, r in enumerate(resized))
    torch.testing.assert_close(m(x), m.out(fused), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("chosen", [0, 1, 2])
def test_asff_with_one_hot_weights_passes_that_level(chosen):
    m = _randomize(ASFF([8, 16, 32], c2=8, level=1))
    with torch.no_grad():  # logits = constant, large for `chosen`: the fusion must pick that level alone
        m.weight_logits.weight.zero_()
        m.weight_logits.bias.copy_(torch.tensor([-50.0, -50.0, -50.0]).index_fill(0, torch.tensor(chosen), 50.0))
    x = _pyramid()
    torch.testing.assert_close(m(x), m.out(m.resize[chosen](x[chosen])), rtol=1e-5, atol=1e-5)


def test_asff_downsamples_by_four_with_a_max_pool_first():
    m = ASFF([8, 16, 32], c2=8, level=2)
    assert isinstance(m.resize[0][0], torch.nn.MaxPool2d) and m.resize[0][1].conv.stride == (2, 2)
    assert isinstance(m.resize[2], torch.nn.Identity)
    with pytest.raises(ValueError, match="level"):
        ASFF([8, 16, 32], c2=8, level=3)


# ---------------------------------------------------------------- SPD-Conv
def _reference_space_to_depth(x, s):
    """Channel c*s*s + i*s + j of the output holds x[:, c, i::s, j::s] (row offset i, column offset j)."""
    b, c, h, w = x.shape
    out = torch.empty(b, c * s * s, h // s, w // s)
    for ch in range(c):
        for i in range(s):
            for j in range(s):
                out[:, ch * s * s + i * s + j] = x[:, ch, i::s, j::s]
    return out


@pytest.mark.parametrize("scale", [2, 3])
def test_spdconv_is_space_to_depth_then_stride_one_conv(scale):
    m = _randomize(SPDConv(4, 10, k=3, scale=scale))
    x = torch.randn(2, 4, 6 * scale, 4 * scale)
    assert m.conv.conv.stride == (1, 1) and m.conv.conv.in_channels == 4 * scale * scale
    torch.testing.assert_close(m(x), m.conv(_reference_space_to_depth(x, scale)))
    assert m(x).shape == (2, 10, 6, 4)


def test_space_to_depth_loses_no_pixel():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    rearranged = _reference_space_to_depth(x, 2)
    assert torch.equal(torch.sort(rearranged.flatten()).values, torch.sort(x.flatten()).values)


# ---------------------------------------------------------------- channel rules: builder and module agree
# One YAML row per registered module: (input widths, YAML args, repeats, input tensors' spatial sizes).
RULE_EXAMPLES = {
    "CBAM": (24, [7, "paper"], 1, [(8, 8)]),
    "C2fCBAM": (24, [64, True], 2, [(8, 8)]),
    "C3k2CBAM": (24, [64, False, 0.25], 2, [(8, 8)]),
    "BiFusion": ([16, 32, 64], [128], 1, [(16, 16), (8, 8), (4, 4)]),
    "ASFF": ([16, 32, 64], [256, 2], 1, [(16, 16), (8, 8), (4, 4)]),
    "SPDConv": (24, [128, 3], 1, [(8, 8)]),
    "DeformConv": (24, [128, 3, 2], 1, [(8, 8)]),
    "C2fDCN": (24, [64, True], 2, [(8, 8)]),
}


def test_every_registered_module_has_a_rule_example():
    assert set(RULE_EXAMPLES) == set(MODULES), "add a row to RULE_EXAMPLES for each new module"


@pytest.mark.parametrize("name", sorted(RULE_EXAMPLES))
@pytest.mark.parametrize("scale", ["n", "m"])
def test_rule_output_channels_match_the_built_module(name, scale):
    in_ch, args, repeats, sizes = RULE_EXAMPLES[name]
    scaling = Scaling(width={"n": 0.25, "m": 0.75}[scale], max_channels=768, scale=scale)
    module = MODULES[name]
    plan = module.yaml_rule.plan(in_ch, args, repeats, scaling)
    built = torch.nn.Sequential(*(module(*plan.args) for _ in range(plan.repeats))).eval()
    widths = in_ch if isinstance(in_ch, list) else [in_ch]
    x = [torch.randn(1, c, *hw) for c, hw in zip(widths, sizes)]
    with torch.no_grad():
        out = built(x if module.yaml_rule.multi_input else x[0])
    assert out.shape[1] == plan.out_channels
