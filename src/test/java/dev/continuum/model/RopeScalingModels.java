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
 * Small Llama 3.x-shaped models (GQA, head size 16, rope base 500 000, a 16 384-token context) with each kind of
 * rope scaling, seeded, written by the project's own exporter for llama.cpp to read (reference data:
 * {@code src/test/resources/reference/architectures/README.md}). The weights are larger than the dummy models'
 * normal(0, 0.02) so that attention is peaked (queries and keys 0.25) and the logits are not flat: a wrong angle
 * at position 9 000 shows in the outputs.
 *
 * <p>Run as a program to write the files: {@code RopeScalingModels DIR}.
 */
public final class RopeScalingModels {
    static final int DIM = 64;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 16;
    static final int FFN = 192;
    static final int VOCAB = 512;
    static final int CONTEXT = 16384;
    static final float THETA = 500000f;
    static final String[] KINDS = {"llama3", "linear", "yarn"};

    private RopeScalingModels() {
    }

    /** The rope scaling of {@code kind}: Llama 3.1's (factor 32, frequency factors 1 and 4, original 8 192), linear x4, YaRN x4 over 4 096. */
    static RopeScaling scaling(String kind) {
        return switch (kind) {
            case "llama3" -> new RopeScaling(RopeScaling.Type.LINEAR, 1f, 1f, 8192, llama3Factors(32, 1, 4, 8192));
            case "linear" -> new RopeScaling(RopeScaling.Type.LINEAR, 0.25f, 1f, CONTEXT, null);
            case "yarn" -> new RopeScaling(RopeScaling.Type.YARN, 0.25f, 1f, 4096, null);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** Llama 3.1's frequency factors as llama.cpp's converter computes them (convert_hf_to_gguf.py, rope_type llama3). */
    static float[] llama3Factors(double factor, double lowFreqFactor, double highFreqFactor, int oldContext) {
        float[] out = new float[HEAD_DIM / 2];
        double lowWavelen = oldContext / lowFreqFactor;
        double highWavelen = oldContext / highFreqFactor;
        for (int i = 0; i < out.length; i++) {
            float freq = (float) (1.0 / Math.pow(THETA, (2.0 * i) / HEAD_DIM));
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                out[i] = 1;
            } else if (wavelen > lowWavelen) {
                out[i] = (float) factor;
            } else {
                double smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                out[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }

    static LoadedModel create(String kind) {
        LlamaConfig config = new LlamaConfig(Architecture.LLAMA, DIM, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB, CONTEXT,
                1e-5f, THETA, HEAD_DIM, RopeType.INTERLEAVED, scaling(kind));
        Arena arena = Arena.ofShared();
        SeededTensors.InMemory t = new SeededTensors.InMemory("rope-test", GgmlType.F32, arena,
                new SplittableRandom(20261203L));
        LayerWeights[] layers = new LayerWeights[LAYERS];
        for (int l = 0; l < LAYERS; l++) {
            layers[l] = new LayerWeights(SeededTensors.ones(DIM),
                    t.matrix(HEADS * HEAD_DIM, DIM, 0.25), t.matrix(KV_HEADS * HEAD_DIM, DIM, 0.25),
                    t.matrix(KV_HEADS * HEAD_DIM, DIM, 0.1), null, null, null,
                    t.matrix(DIM, HEADS * HEAD_DIM, 0.1), SeededTensors.ones(DIM),
                    t.matrix(FFN, DIM, 0.1), t.matrix(FFN, DIM, 0.1), t.matrix(DIM, FFN, 0.1));
        }
        LlamaWeights weights = new LlamaWeights(t.matrix(VOCAB, DIM, 1.0), layers, SeededTensors.ones(DIM),
                t.matrix(VOCAB, DIM, 0.3));
        return new LoadedModel("rope-" + kind, "rope scaling test model (" + kind + ")", config, weights,
                new ByteLevelTokenizer(VOCAB), null, arena);
    }

    /** The prompt every reference uses: {@code length} ids from a fixed recurrence, BOS (1) first. */
    static int[] prompt(int length) {
        int[] ids = new int[length];
        ids[0] = 1;
        for (int i = 1; i < length; i++) {
            ids[i] = 3 + (int) ((i * 7919L + (long) i * i * 31) % (VOCAB - 3));
        }
        return ids;
    }

    public static void main(String[] args) throws IOException {
        for (String kind : KINDS) {
            try (LoadedModel m = create(kind)) {
                Path out = Path.of(args[0], "rope-" + kind + ".gguf");
                GgufExporter.write(m, out);
                System.out.println("wrote " + out);
            }
        }
    }
}
