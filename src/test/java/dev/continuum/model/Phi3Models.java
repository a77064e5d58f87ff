package dev.continuum.model;

import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.GgufWriter;
import dev.continuum.tensor.GgmlType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A small Phi-3-shaped file (dim 96, 2 layers, 4 query and 2 KV heads of 24, so the attention scale 1/sqrt(24) is
 * not a power of two; feed-forward 192; vocabulary 512; rope base 10 000; a sliding window of 32 positions),
 * seeded, written with {@link GgufWriter} under the tensor names and metadata keys llama.cpp's converter writes
 * for {@code phi3} ({@code convert_hf_to_gguf.py}, Phi3MiniModel): a fused {@code attn_qkv}, a fused
 * {@code ffn_up} of gate then up rows, {@code rope_factors_long} and {@code rope_factors_short} with
 * {@code rope.scaling.original_context_length} 256 and {@code rope.scaling.attn_factor} sqrt(1 + ln 16 / ln 256)
 * (the converter's value for a 4 096-token model trained on 256), and {@code attention.sliding_window}.
 *
 * <p>The same weights come with two context lengths: 4 096 (past the original context, so both engines divide by
 * the long factors) and 256 (the original: the short factors). Run as a program to write {@code phi3-f32.gguf},
 * {@code phi3-f16.gguf} (context 4 096) and {@code phi3-short-f32.gguf} (context 256): {@code Phi3Models DIR}.
 */
public final class Phi3Models {
    static final int DIM = 96;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 24;
    static final int FFN = 192;
    static final int VOCAB = 512;
    static final int LONG_CONTEXT = 4096;
    static final int ORIGINAL_CONTEXT = 256;
    static final int WINDOW = 32;
    static final float ATTN_FACTOR = (float) Math.sqrt(1 + Math.log(16) / Math.log(256));

    private Phi3Models() {
    }

    /** The long factors: from 1 to 16 over the rotated pairs, as longrope's grow towards the low frequencies. */
    static float[] longFactors() {
        float[] f = new float[HEAD_DIM / 2];
        for (int i = 0; i < f.length; i++) {
            double t = i / (f.length - 1.0);
            f[i] = (float) (1 + 15 * t * t);
        }
        return f;
    }

    /** The short factors: close to 1, from 1 to 1.25. */
    static float[] shortFactors() {
        float[] f = new float[HEAD_DIM / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (1 + 0.25 * i / (f.length - 1.0));
        }
        return f;
    }

    /**
     * Writes the model with its matrices in {@code type} and {@code phi3.context_length} {@code context};
     * {@code without}: a tensor left out (null: none), {@code window}: false to leave out the sliding window key.
     */
    static void write(Path file, GgmlType type, int context, String without, boolean window) throws IOException {
        GgufWriter g = new GgufWriter()
                .putString("general.architecture", "phi3")
                // Not "phi3": llama.cpp's vocabulary loader then looks for Phi-3's chat tokens, which this one lacks.
                .putString("general.name", "tiny-test")
                .putUint32("general.file_type", type == GgmlType.F16 ? 1 : 0)
                .putUint32("phi3.context_length", context)
                .putUint32("phi3.rope.scaling.original_context_length", ORIGINAL_CONTEXT)
                .putUint32("phi3.embedding_length", DIM)
                .putUint32("phi3.feed_forward_length", FFN)
                .putUint32("phi3.block_count", LAYERS)
                .putUint32("phi3.attention.head_count", HEADS)
                .putUint32("phi3.attention.head_count_kv", KV_HEADS)
                .putFloat32("phi3.attention.layer_norm_rms_epsilon", 1e-5f)
                .putUint32("phi3.rope.dimension_count", HEAD_DIM)
                .putFloat32("phi3.rope.freq_base", 10000f)
                .putFloat32("phi3.rope.scaling.attn_factor", ATTN_FACTOR);
        if (window) {
            g.putUint32("phi3.attention.sliding_window", WINDOW);
        }
        GgufExporter.vocabulary(g, VOCAB);
        SeededTensors t = new SeededTensors(20260521L, type, g, without);
        t.matrix("token_embd.weight", VOCAB, DIM, 1.0);
        t.vector("rope_factors_long.weight", longFactors());
        t.vector("rope_factors_short.weight", shortFactors());
        int qkv = (HEADS + 2 * KV_HEADS) * HEAD_DIM;
        for (int l = 0; l < LAYERS; l++) {
            String p = "blk." + l + ".";
            t.vector(p + "attn_norm.weight", DIM, 1, 0.1);
            // Queries, keys and values fused: larger than the rest so that positions matter, not so large that
            // attention turns on float16 rounding (0.25 made llama.cpp's float16 queries move logits by 0.03).
            t.matrix(p + "attn_qkv.weight", qkv, DIM, 0.15);
            t.matrix(p + "attn_output.weight", DIM, DIM, 0.1);
            t.vector(p + "ffn_norm.weight", DIM, 1, 0.1);
            t.matrix(p + "ffn_up.weight", 2 * FFN, DIM, 0.1);
            t.matrix(p + "ffn_down.weight", DIM, FFN, 0.1);
        }
        t.vector("output_norm.weight", DIM, 1, 0.1);
        t.matrix("output.weight", VOCAB, DIM, 0.3);
        g.write(file);
    }

    /** The prompt: BOS (1), then 63 ids of the rope references' recurrence; 64 positions cross the window twice. */
    static int[] prompt() {
        return RopeScalingModels.prompt(64);
    }

    public static void main(String[] args) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
            Path out = Path.of(args[0], "phi3-" + type.name().toLowerCase(Locale.ROOT) + ".gguf");
            write(out, type, LONG_CONTEXT, null, true);
            System.out.println("wrote " + out);
        }
        Path out = Path.of(args[0], "phi3-short-f32.gguf");
        write(out, GgmlType.F32, ORIGINAL_CONTEXT, null, true);
        System.out.println("wrote " + out);
    }
}
