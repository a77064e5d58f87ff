package dev.continuum.model;

import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.GgufWriter;
import dev.continuum.tensor.GgmlType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A small Gemma 2-shaped GGUF file, seeded, written with {@link GgufWriter} under the tensor names and metadata keys
 * llama.cpp's converter writes for {@code gemma2} (no exporter writes this architecture): 26 layers (the 2B's count,
 * the one shape of few layers llama.cpp c392e509 computes: it aborts on counts other than 26, 42 and 46), dim 64,
 * 4 query and 2 KV heads of 256 (Gemma's head size, wider than dim / heads), feed-forward 192, vocabulary 512,
 * output tied to the embedding, and a sliding window of {@value #WINDOW} positions so that the prompt of
 * {@value #PROMPT} tokens and the greedy tokens after it cross it. The soft-caps are smaller than Gemma's 50 and 30
 * ({@value #ATTN_CAP} and {@value #FINAL_CAP}) so that the scores and logits of this small model reach them.
 *
 * <p>Norm weights are 1 + normal(0, 0.1), as the converter stores them (Gemma's {@code 1 + w} already added); the
 * matrices are normal, queries and keys wide enough (0.2) that attention is peaked and its scores reach the cap,
 * not so wide that float rounding compounds chaotically over 26 layers (at 0.3, llama.cpp's and the float64
 * reference's logits part by 0.07). The F16 file holds the F32
 * weights rounded; norms stay F32 as the converter keeps them.
 *
 * <p>Run as a program to write both files ({@code gemma2-f32.gguf}, {@code gemma2-f16.gguf}): {@code Gemma2Models DIR}.
 */
public final class Gemma2Models {
    static final int DIM = 64;
    static final int LAYERS = 26;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 256;
    static final int FFN = 192;
    static final int VOCAB = 512;
    static final int CONTEXT = 512;
    static final int WINDOW = 32;
    static final float ATTN_CAP = 5f;
    static final float FINAL_CAP = 10f;
    static final float EPS = 1e-6f;
    static final int PROMPT = 80;

    private Gemma2Models() {
    }

    /** Writes the model with its matrices in {@code type} (F32, or F16: the F32 weights rounded) to {@code out}. */
    static void write(GgmlType type, Path out) throws IOException {
        write(type, out, true);
    }

    /**
     * Writes the model; without {@code softcapKeys} the file leaves out both soft-cap keys (llama.cpp's defaults, 50
     * and 30, apply).
     */
    static void write(GgmlType type, Path out, boolean softcapKeys) throws IOException {
        String a = "gemma2";
        GgufWriter g = new GgufWriter()
                .putString("general.architecture", a)
                .putString("general.name", "gemma2-test")
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
                .putUint32(a + ".attention.sliding_window", WINDOW);
        if (softcapKeys) {
            g.putFloat32(a + ".attn_logit_softcapping", ATTN_CAP).putFloat32(a + ".final_logit_softcapping", FINAL_CAP);
        }
        GgufExporter.vocabulary(g, VOCAB);
        SeededTensors t = new SeededTensors(2026_02_20L, type, g, null);
        int q = HEADS * HEAD_DIM;
        int kv = KV_HEADS * HEAD_DIM;
        t.matrix("token_embd.weight", VOCAB, DIM, 0.3);
        for (int l = 0; l < LAYERS; l++) {
            String p = "blk." + l + ".";
            t.vector(p + "attn_norm.weight", DIM, 1, 0.1);
            t.matrix(p + "attn_q.weight", q, DIM, 0.2);
            t.matrix(p + "attn_k.weight", kv, DIM, 0.2);
            t.matrix(p + "attn_v.weight", kv, DIM, 0.1);
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

    /** The prompt: BOS (1), then the rope references' recurrence. */
    static int[] prompt() {
        return RopeScalingModels.prompt(PROMPT);
    }

    public static void main(String[] args) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
            Path out = Path.of(args[0], "gemma2-" + type.name().toLowerCase(Locale.ROOT) + ".gguf");
            write(type, out);
            System.out.println("wrote " + out);
        }
    }
}
