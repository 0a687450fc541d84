import pytest
import torch

from resp_dsl.pruning.calib import CalibSample, make_batches, sample_losses, target_mask


def test_decode_only_masks_prompt_targets_by_hand():
    # tokens: p p p | t t ; the targets are tokens 1..4; only tokens 3 and 4 are the trace.
    s = CalibSample([10, 11, 12, 20, 21], n_prompt=3)
    assert target_mask(s, 5, "decode_only").tolist() == [0, 0, 1, 1]
    assert target_mask(s, 5, "full").tolist() == [1, 1, 1, 1]
    # right padding to 7: the two padded targets never count
    assert target_mask(s, 7, "decode_only").tolist() == [0, 0, 1, 1, 0, 0]
    assert target_mask(CalibSample([1, 2, 3], 0), 3, "decode_only").tolist() == [1, 1]


def test_decode_only_loss_is_mean_nll_of_trace_tokens():
    vocab = 6
    s = CalibSample([1, 2, 3, 4, 5], n_prompt=3)
    other = CalibSample([1, 2], n_prompt=1)
    (batch,) = make_batches([s, other], 2, loss="decode_only", pad_id=0)
    logits = torch.randn(2, 5, vocab, generator=torch.Generator().manual_seed(0))
    logp = torch.log_softmax(logits, -1)
    want0 = -(logp[0, 2, 4] + logp[0, 3, 5]) / 2
    want1 = -logp[1, 0, 2]
    got = sample_losses(logits, batch)
    torch.testing.assert_close(got, torch.stack([want0, want1]))
    assert batch.attention_mask.tolist()[1] == [1, 1, 0, 0, 0]


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="n_prompt=4 outside"):
        CalibSample([1, 2], n_prompt=4)
    with pytest.raises(ValueError, match="unknown loss 'prompt'"):
        target_mask(CalibSample([1, 2]), 2, "prompt")


@pytest.mark.parametrize("loss", ["decode_only", "full"])
def test_batch_losses_skip_uncounted_positions_without_changing_the_loss(loss):
    """The output head runs only where a target counts (logits_to_keep); the loss is unchanged."""
    import torch

    from resp_dsl.models.factory import tiny_random_model
    from resp_dsl.pruning.calib import batch_losses, make_batches, sample_losses

    from helpers.models import random_samples

    model = tiny_random_model("qwen3", num_hidden_layers=2)
    for batch in make_batches(random_samples(), 3, loss=loss):
        full = sample_losses(model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits, batch)
        torch.testing.assert_close(batch_losses(model, batch), full, rtol=1e-6, atol=1e-7)
