package dev.continuum.model;

import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.GgufWriter;
import dev.continuum.tensor.GgmlType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A small Gemma 3-shaped GGUF file, seeded, written with {@link GgufWriter} under the tensor names and metadata keys
 * later llama.cpp versions' converter writes for {@code gemma3} ({@code attn_q_norm}, {@code attn_k_norm},
 * {@code post_attention_norm}, {@code post_ffw_norm}; {@code gemma3.attention.sliding_window},
 * {@code gemma3.rope.freq_base}, {@code gemma3.rope.scaling.type} / {@code factor}; output tied to the embedding):
 * 12 layers (two sets of five windowed layers and a global one), dim 64, 4 query and 2 KV heads of 256, feed-forward
 * 192, vocabulary 512, a window of {@value #WINDOW} positions crossed by the prompt of {@value #PROMPT} tokens, the
 * global layers at base 1 000 000 with linear scaling x8 (Gemma 3 4B's), the windowed ones at 10 000. Weights as
 * {@link Gemma2Models}'; the per-head norms' weights 2 (1 + normal(0, 0.3)), so that they matter and, as the
 * normalised queries and keys are otherwise too short for it, attention is peaked.
 *
 * <p>Run as a program to write both files ({@code gemma3-f32.gguf}, {@code gemma3-f16.gguf}): {@code Gemma3Models DIR}.
 */
public final class Gemma3Models {
    static final int DIM = 64;
    static final int LAYERS = 12;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 256;
    static final int FFN = 192;
    static final int VOCAB = 512;
    static final int CONTEXT = 512;
    static final int WINDOW = 32;
    static final float BASE = 1_000_000f;
    static final float SCALING = 8f;
    static final float EPS = 1e-6f;
    static final int PROMPT = 80;

    private Gemma3Models() {
    }

    /** Writes the model with its matrices in {@code type} (F32, or F16: the F32 weights rounded) to {@code out}. */
    static void write(GgmlType type, Path out) throws IOException {
        String a = "gemma3";
        GgufWriter g = new GgufWriter()
                .putString("general.architecture", a)
                .putString("general.name", "gemma3-test")
                .putUint32("general.file_type", type == GgmlType.F16 ? 1 : 0)
                .putUint32(a + ".context_length", CONTEXT)
                .putUint32(a + ".embedding_length", DIM)
                .putUint32(a + ".block_count", LAYERS)
                .putUint32(a + ".feed_forward_length", FFN)
                .putUint32(a + ".attention.head_count", HEADS)
                .putUint32(a + ".attention.head_count_kv", KV_HEADS)
                .putUint32(a + ".attention.key_length", HEAD_DIM)
                .putUint32(a + ".attention.value_length", HEAD_DIM)
                .putFloat32(a + ".attention.layer_norm_rms_epsilon", EPS)
                .putUint32(a + ".attention.sliding_window", WINDOW)
                .putFloat32(a + ".rope.freq_base", BASE)
                .putString(a + ".rope.scaling.type", "linear")
                .putFloat32(a + ".rope.scaling.factor", SCALING);
        GgufExporter.vocabulary(g, VOCAB);
        SeededTensors t = new SeededTensors(2025_03_12L, type, g, null);
        int q = HEADS * HEAD_DIM;
        int kv = KV_HEADS * HEAD_DIM;
        t.matrix("token_embd.weight", VOCAB, DIM, 0.3);
        for (int l = 0; l < LAYERS; l++) {
            String p = "blk." + l + ".";
            t.vector(p + "attn_norm.weight", DIM, 1, 0.1);
            t.matrix(p + "attn_q.weight", q, DIM, 0.2);
            t.matrix(p + "attn_k.weight", kv, DIM, 0.2);
            t.matrix(p + "attn_v.weight", kv, DIM, 0.1);
            t.vector(p + "attn_q_norm.weight", headNorm(t));
            t.vector(p + "attn_k_norm.weight", headNorm(t));
            t.matrix(p + "attn_output.weight", DIM, q, 0.1);
            t.vector(p + "post_attention_norm.weight", DIM, 1, 0.1);
            t.vector(p + "ffn_norm.weight", DIM, 1, 0.1);
            t.matrix(p + "ffn_gate.weight", FFN, DIM, 0.15);
            t.matrix(p + "ffn_up.weight", FFN, DIM, 0.15);
            t.matrix(p + "ffn_down.weight", DIM, FFN, 0.1);
            t.vector(p + "post_ffw_norm.weight", DIM, 1, 0.1);
        }
        t.vector("output_norm.weight", DIM, 1, 0.1);
        g.write(out);
    }

    /** A per-head norm's weights, as stored (Gemma's 1 added): 2 (1 + normal(0, 0.3)). */
    private static float[] headNorm(SeededTensors t) {
        float[] w = t.gaussian(HEAD_DIM, 1, 0.3);
        for (int i = 0; i < w.length; i++) {
            w[i] *= 2;
        }
        return w;
    }

    /** The prompt: BOS (1), then the rope references' recurrence. */
    static int[] prompt() {
        return RopeScalingModels.prompt(PROMPT);
    }

    public static void main(String[] args) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
            Path out = Path.of(args[0], "gemma3-" + type.name().toLowerCase(Locale.ROOT) + ".gguf");
            write(type, out);
            System.out.println("wrote " + out);
        }
    }
}
