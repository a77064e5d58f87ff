package dev.continuum.model;

import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.LoadedModel;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tokenizer.ByteLevelTokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * A small Qwen3-shaped model (dim 64, 2 layers, 4 query and 2 KV heads of 32, so the heads are wider than
 * dim / heads as Qwen3's are; per-head query and key RMSNorms; NEOX rotation, base 1 000 000; no biases), seeded,
 * written by the project's exporter for the independent float64 reference ({@code qwen3_reference.py}, see
 * {@code src/test/resources/reference/architectures/README.md}). Weights as {@link RopeScalingModels}' so the
 * logits are not flat; the head norms' weights are 1 + normal(0, 0.3) so that they matter.
 *
 * <p>Run as a program to write the files ({@code qwen3-f32.gguf}, {@code qwen3-f16.gguf}): {@code Qwen3Models DIR}.
 */
public final class Qwen3Models {
    static final int DIM = 64;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 32;
    static final int FFN = 192;
    static final int VOCAB = 512;
    static final int CONTEXT = 512;

    private Qwen3Models() {
    }

    /** The model with F32 weights. */
    static LoadedModel create() {
        return create(GgmlType.F32);
    }

    /** The model with its matrices in {@code type} (F32 or F16: the F16 file holds the F32 weights rounded). */
    static LoadedModel create(GgmlType type) {
        if (type != GgmlType.F32 && type != GgmlType.F16) {
            throw new IllegalArgumentException("F32 or F16, not " + type);
        }
        LlamaConfig config = new LlamaConfig(Architecture.QWEN3, DIM, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB, CONTEXT,
                1e-6f, 1_000_000f, HEAD_DIM, RopeType.NEOX);
        Arena arena = Arena.ofShared();
        SeededTensors.InMemory t = new SeededTensors.InMemory("qwen3-test", type, arena, new SplittableRandom(31));
        int q = HEADS * HEAD_DIM;
        int kv = KV_HEADS * HEAD_DIM;
        LayerWeights[] layers = new LayerWeights[LAYERS];
        for (int l = 0; l < LAYERS; l++) {
            layers[l] = new LayerWeights(t.near1(DIM, 0.1),
                    t.matrix(q, DIM, 0.25), t.matrix(kv, DIM, 0.25), t.matrix(kv, DIM, 0.1),
                    null, null, null, t.matrix(DIM, q, 0.1), t.near1(DIM, 0.1),
                    t.matrix(FFN, DIM, 0.1), t.matrix(FFN, DIM, 0.1), t.matrix(DIM, FFN, 0.1),
                    t.near1(HEAD_DIM, 0.3), t.near1(HEAD_DIM, 0.3));
        }
        LlamaWeights weights = new LlamaWeights(t.matrix(VOCAB, DIM, 1.0), layers, t.near1(DIM, 0.1),
                t.matrix(VOCAB, DIM, 0.3));
        return new LoadedModel("qwen3-test", "qwen3 test model", config, weights, new ByteLevelTokenizer(VOCAB), null,
                arena);
    }

    /** The prompt: BOS (1), then 47 ids of the rope references' recurrence. */
    static int[] prompt() {
        return RopeScalingModels.prompt(48);
    }

    public static void main(String[] args) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
            try (LoadedModel m = create(type)) {
                Path out = Path.of(args[0], "qwen3-" + type.name().toLowerCase(java.util.Locale.ROOT) + ".gguf");
                GgufExporter.write(m, out);
                System.out.println("wrote " + out);
            }
        }
    }
}
