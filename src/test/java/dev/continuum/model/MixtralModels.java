package dev.continuum.model;

import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.LoadedModel;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightEncoder;
import dev.continuum.tensor.WeightTensor;
import dev.continuum.tokenizer.ByteLevelTokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A small Mixtral-shaped model: architecture {@code llama} with a mixture of experts in every layer (dim 64,
 * 2 layers, 4 query and 2 KV heads of 16, 8 experts of feed-forward 128, 2 used per token, vocabulary 512, context
 * 512), seeded, written by the project's exporter (which writes the experts as llama.cpp's converter does: router
 * {@code ffn_gate_inp} and 3-D {@code ffn_gate_exps}, {@code ffn_up_exps}, {@code ffn_down_exps}) for llama.cpp's
 * reference (see {@code src/test/resources/reference/architectures/README.md}). The router stays F32 in the F16
 * file, as the converter keeps it; its rows are normal(0, 0.3), so each token's experts are clearly apart.
 *
 * <p>Run as a program to write the files ({@code mixtral-f32.gguf}, {@code mixtral-f16.gguf}):
 * {@code MixtralModels DIR}.
 */
public final class MixtralModels {
    static final int DIM = 64;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 16;
    static final int FFN = 128;
    static final int EXPERTS = 8;
    static final int USED = 2;
    static final int VOCAB = 512;
    static final int CONTEXT = 512;

    private MixtralModels() {
    }

    /** The model with its matrices in {@code type} (F32 or F16: the F16 file holds the F32 weights rounded). */
    public static LoadedModel create(GgmlType type) {
        return create(type, EXPERTS, USED);
    }

    /**
     * The model with {@code experts} experts of which {@code used} per token, matrices in {@code type} (any type
     * {@link WeightEncoder} writes; the router stays F32).
     */
    static LoadedModel create(GgmlType type, int experts, int used) {
        LlamaConfig config = new LlamaConfig(Architecture.LLAMA, DIM, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB,
                CONTEXT, 1e-5f, 10000f, HEAD_DIM, RopeType.INTERLEAVED, RopeScaling.NONE, SlidingWindow.NONE, 0f, 0f,
                experts, used);
        Arena arena = Arena.ofShared();
        SeededTensors.InMemory t = new SeededTensors.InMemory("mixtral-test", type, arena, new SplittableRandom(47));
        int q = HEADS * HEAD_DIM;
        int kv = KV_HEADS * HEAD_DIM;
        LayerWeights[] layers = new LayerWeights[LAYERS];
        for (int l = 0; l < LAYERS; l++) {
            LayerWeights attention = new LayerWeights(t.near1(DIM, 0.1),
                    t.matrix(q, DIM, 0.25), t.matrix(kv, DIM, 0.25),
                    t.matrix(kv, DIM, 0.1), null, null, null, t.matrix(DIM, q, 0.1),
                    t.near1(DIM, 0.1), null, null, null);
            WeightTensor router = t.matrix(GgmlType.F32, experts, DIM, 0.3);
            WeightTensor[] gate = new WeightTensor[experts];
            WeightTensor[] up = new WeightTensor[experts];
            WeightTensor[] down = new WeightTensor[experts];
            for (int e = 0; e < experts; e++) {
                gate[e] = t.matrix(FFN, DIM, 0.15);
                up[e] = t.matrix(FFN, DIM, 0.15);
                down[e] = t.matrix(DIM, FFN, 0.15);
            }
            layers[l] = attention.withExperts(new Experts(router, gate, up, down));
        }
        LlamaWeights weights = new LlamaWeights(t.matrix(VOCAB, DIM, 1.0), layers,
                t.near1(DIM, 0.1), t.matrix(VOCAB, DIM, 0.3));
        return new LoadedModel("mixtral-test", "mixtral test model", config, weights, new ByteLevelTokenizer(VOCAB),
                null, arena);
    }

    /** The prompt: BOS (1), then 47 ids of the rope references' recurrence. */
    static int[] prompt() {
        return RopeScalingModels.prompt(48);
    }

    public static void main(String[] args) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
            try (LoadedModel m = create(type)) {
                Path out = Path.of(args[0], "mixtral-" + type.name().toLowerCase(Locale.ROOT) + ".gguf");
                GgufExporter.write(m, out);
                System.out.println("wrote " + out);
            }
        }
    }
}
