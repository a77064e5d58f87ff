package dev.continuum.model;

import dev.continuum.loader.DummyModelFactory;
import dev.continuum.loader.LoadedModel;
import dev.continuum.tensor.BlockQuantTestData;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model whose weights are K-quants, as users download them (Q4_K_M: Q4_K layers, Q6_K embedding and output;
 * Q5_K and Q3_K in some layers), through the CPU forward pass: the token embedding lookup reads Q6_K rows exactly,
 * the logits match a float model of the dequantized weights within the activations' 8-bit rounding, and a prompt
 * gives the bits of the same tokens fed one by one.
 */
class BlockQuantModelTest {
    /** One layer of width 256 (one superblock), a vocabulary of 384. */
    private static final DummyModelFactory.Shape SHAPE = new DummyModelFactory.Shape("k", 256, 1, 4, 4, 512, 384, 64);
    private static final int[] TOKENS = {1, 17, 300, 42, 383, 64};

    @Test
    void q6KTokenEmbeddingLooksUpTheDequantizedRowsExactly() {
        try (LoadedModel m = DummyModelFactory.create(SHAPE, GgmlType.F32); Arena arena = Arena.ofShared();
             ComputePool pool = ModelHarness.pool()) {
            LlamaWeights f32 = m.weights();
            WeightTensor q6 = BlockQuantTestData.random(GgmlType.Q6_K, SHAPE.vocab(), SHAPE.dim(), 1, 1e-3f, arena);
            LlamaWeights quantized = new LlamaWeights(q6, f32.layers(), f32.outputNorm(), f32.output());
            LlamaWeights floats = new LlamaWeights(ModelHarness.f32(q6, arena), f32.layers(), f32.outputNorm(),
                    f32.output());
            float[][] a = ModelHarness.stepwiseLogits(ModelHarness.model(m.config(), quantized, pool), TOKENS);
            float[][] b = ModelHarness.stepwiseLogits(ModelHarness.model(m.config(), floats, pool), TOKENS);
            for (int i = 0; i < TOKENS.length; i++) {
                assertArrayEquals(b[i], a[i], "position " + i);
            }
        }
    }

    @Test
    void kQuantModelMatchesItsDequantizedFloatModelAndPrefillEqualsSteps() {
        try (LoadedModel m = DummyModelFactory.create(SHAPE, GgmlType.F32); Arena arena = Arena.ofShared();
             ComputePool pool = ModelHarness.pool()) {
            LlamaWeights k = kQuantWeights(m.weights(), arena);
            assertEquals(GgmlType.Q4_K, k.layers()[0].wq().type());
            LlamaModel quantized = ModelHarness.model(m.config(), k, pool);
            LlamaModel reference = ModelHarness.model(m.config(), ModelHarness.dequantized(k, arena), pool);
            float[][] prefill = ModelHarness.prefillLogits(quantized, TOKENS);
            float[][] steps = ModelHarness.stepwiseLogits(quantized, TOKENS);
            float[][] r = ModelHarness.prefillLogits(reference, TOKENS);
            for (int i = 0; i < TOKENS.length; i++) {
                assertArrayEquals(steps[i], prefill[i], "position " + i + ": prefill vs one token per step");
                float scale = ModelHarness.maxAbs(r[i]);
                float diff = ModelHarness.maxAbsDiff(prefill[i], r[i]);
                // As QuantizedLogitsTest: 8-bit activations move each product by at most 1/254 of its tile's
                // largest input; one layer and the output stay well inside 3e-2 of the largest logit (observed 5e-3
                // at position 0). Larger random weights than these make attention so peaked that the rounding
                // flips which position wins, which says nothing about the kernels.
                assertTrue(scale > 0, "logits are not all zero");
                assertTrue(diff <= 3e-2f * scale, "position " + i + ": max |diff| " + diff + " vs " + scale);
            }
        }
    }

    /** The float model's norms with Q4_K attention and gate/up, a Q5_K down, a Q6_K embedding and a Q3_K output. */
    private static LlamaWeights kQuantWeights(LlamaWeights f, Arena arena) {
        LayerWeights x = f.layers()[0];
        int dim = SHAPE.dim();
        int ffn = SHAPE.ffnDim();
        float s = 2e-5f;
        LayerWeights layer = new LayerWeights(x.attnNorm(),
                BlockQuantTestData.random(GgmlType.Q4_K, dim, dim, 11, s, arena),
                BlockQuantTestData.random(GgmlType.Q4_K, dim, dim, 12, s, arena),
                BlockQuantTestData.random(GgmlType.Q4_K, dim, dim, 13, s, arena),
                null, null, null,
                BlockQuantTestData.random(GgmlType.Q4_K, dim, dim, 14, s, arena), x.ffnNorm(),
                BlockQuantTestData.random(GgmlType.Q4_K, ffn, dim, 15, s, arena),
                BlockQuantTestData.random(GgmlType.Q4_K, ffn, dim, 16, s, arena),
                BlockQuantTestData.random(GgmlType.Q5_K, dim, ffn, 17, s, arena));
        return new LlamaWeights(BlockQuantTestData.random(GgmlType.Q6_K, SHAPE.vocab(), dim, 18, 1e-3f, arena),
                new LayerWeights[] {layer}, f.outputNorm(),
                BlockQuantTestData.random(GgmlType.Q3_K, SHAPE.vocab(), dim, 19, 1e-3f, arena));
    }
}
