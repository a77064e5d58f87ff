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
 * A small Mistral-shaped model: the Llama block (interleaved rotation, base 10 000, grouped-query attention) with
 * a sliding window of {@link #WINDOW} positions in every layer, as the file's {@code llama.attention.sliding_window}
 * sets it; seeded, written by the project's exporter for the independent float64 reference
 * ({@code llama_reference.py}, see {@code src/test/resources/reference/architectures/README.md}). The window is
 * not a multiple of the cache's 16-position blocks, and the 48-token prompt and 64 greedy tokens run far past it.
 *
 * <p>Run as a program to write the files ({@code mistral-f32.gguf}, {@code mistral-f16.gguf}):
 * {@code MistralModels DIR}.
 */
public final class MistralModels {
    static final int DIM = 64;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 16;
    static final int FFN = 192;
    static final int VOCAB = 512;
    static final int CONTEXT = 512;
    static final int WINDOW = 20;

    private MistralModels() {
    }

    /** The model with its matrices in {@code type} (F32 or F16: the F16 file holds the F32 weights rounded). */
    static LoadedModel create(GgmlType type) {
        if (type != GgmlType.F32 && type != GgmlType.F16) {
            throw new IllegalArgumentException("F32 or F16, not " + type);
        }
        LlamaConfig config = new LlamaConfig(Architecture.LLAMA, DIM, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB,
                CONTEXT, 1e-5f, 10000f, HEAD_DIM, RopeType.INTERLEAVED, RopeScaling.NONE,
                SlidingWindow.everyLayer(WINDOW), 0f, 0f, 0, 0);
        Arena arena = Arena.ofShared();
        SeededTensors.InMemory t = new SeededTensors.InMemory("mistral-test", type, arena, new SplittableRandom(47));
        int q = HEADS * HEAD_DIM;
        int kv = KV_HEADS * HEAD_DIM;
        LayerWeights[] layers = new LayerWeights[LAYERS];
        for (int l = 0; l < LAYERS; l++) {
            layers[l] = new LayerWeights(t.near1(DIM, 0.1),
                    t.matrix(q, DIM, 0.3), t.matrix(kv, DIM, 0.3),
                    t.matrix(kv, DIM, 0.15), null, null, null, t.matrix(DIM, q, 0.1),
                    t.near1(DIM, 0.1), t.matrix(FFN, DIM, 0.1), t.matrix(FFN, DIM, 0.1),
                    t.matrix(DIM, FFN, 0.1));
        }
        LlamaWeights weights = new LlamaWeights(t.matrix(VOCAB, DIM, 1.0), layers, t.near1(DIM, 0.1),
                t.matrix(VOCAB, DIM, 0.3));
        return new LoadedModel("mistral-test", "mistral-shaped test model", config, weights,
                new ByteLevelTokenizer(VOCAB), null, arena);
    }

    /** The prompt: BOS (1), then 47 ids of the rope references' recurrence. */
    static int[] prompt() {
        return RopeScalingModels.prompt(48);
    }

    public static void main(String[] args) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
            try (LoadedModel m = create(type)) {
                Path out = Path.of(args[0], "mistral-" + type.name().toLowerCase(java.util.Locale.ROOT) + ".gguf");
                GgufExporter.write(m, out);
                System.out.println("wrote " + out);
            }
        }
    }
}
