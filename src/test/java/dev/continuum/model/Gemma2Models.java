package dev.continuum.model;

import dev.continuum.loader.GgufWriter;
import dev.continuum.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

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

    private static final int TOKEN_NORMAL = 1;
    private static final int TOKEN_UNKNOWN = 2;
    private static final int TOKEN_CONTROL = 3;
    private static final int TOKEN_BYTE = 6;

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
        if (type != GgmlType.F32 && type != GgmlType.F16) {
            throw new IllegalArgumentException("F32 or F16, not " + type);
        }
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
        vocabulary(g);
        SplittableRandom rnd = new SplittableRandom(2026_02_20L);
        int q = HEADS * HEAD_DIM;
        int kv = KV_HEADS * HEAD_DIM;
        matrix(g, type, "token_embd.weight", rnd, VOCAB, DIM, 0.3);
        for (int l = 0; l < LAYERS; l++) {
            String p = "blk." + l + ".";
            vector(g, p + "attn_norm.weight", near1(rnd, DIM, 0.1));
            matrix(g, type, p + "attn_q.weight", rnd, q, DIM, 0.2);
            matrix(g, type, p + "attn_k.weight", rnd, kv, DIM, 0.2);
            matrix(g, type, p + "attn_v.weight", rnd, kv, DIM, 0.1);
            matrix(g, type, p + "attn_output.weight", rnd, DIM, q, 0.1);
            vector(g, p + "post_attention_norm.weight", near1(rnd, DIM, 0.1));
            vector(g, p + "ffn_norm.weight", near1(rnd, DIM, 0.1));
            matrix(g, type, p + "ffn_gate.weight", rnd, FFN, DIM, 0.15);
            matrix(g, type, p + "ffn_up.weight", rnd, FFN, DIM, 0.15);
            matrix(g, type, p + "ffn_down.weight", rnd, DIM, FFN, 0.1);
            vector(g, p + "post_ffw_norm.weight", near1(rnd, DIM, 0.1));
        }
        vector(g, "output_norm.weight", near1(rnd, DIM, 0.1));
        g.write(out);
    }

    /** The prompt: BOS (1), then the rope references' recurrence. */
    static int[] prompt() {
        return Arrays.copyOf(RopeScalingModels.prompt(PROMPT), PROMPT);
    }

    /** A SentencePiece vocabulary as the exporter writes one: unknown, BOS, EOS, the 256 bytes, placeholders. */
    static void vocabulary(GgufWriter g) {
        List<String> tokens = new ArrayList<>(VOCAB);
        float[] scores = new float[VOCAB];
        int[] types = new int[VOCAB];
        tokens.add("<unk>");
        tokens.add("<s>");
        tokens.add("</s>");
        types[0] = TOKEN_UNKNOWN;
        types[1] = TOKEN_CONTROL;
        types[2] = TOKEN_CONTROL;
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format(Locale.ROOT, "<0x%02X>", b));
            types[3 + b] = TOKEN_BYTE;
        }
        for (int i = 3 + 256; i < VOCAB; i++) {
            tokens.add("\u2581t" + i);
            scores[i] = -i;
            types[i] = TOKEN_NORMAL;
        }
        g.putString("tokenizer.ggml.model", "llama")
                .putStringArray("tokenizer.ggml.tokens", tokens)
                .putFloat32Array("tokenizer.ggml.scores", scores)
                .putInt32Array("tokenizer.ggml.token_type", types)
                .putUint32("tokenizer.ggml.unknown_token_id", 0)
                .putUint32("tokenizer.ggml.bos_token_id", 1)
                .putUint32("tokenizer.ggml.eos_token_id", 2)
                .putBool("tokenizer.ggml.add_bos_token", true)
                .putBool("tokenizer.ggml.add_eos_token", false);
    }

    /** A rows x cols matrix of normal(0, std) values, row-major (GGUF dims: cols, rows). */
    static void matrix(GgufWriter g, GgmlType type, String name, SplittableRandom rnd, int rows, int cols,
                               double std) {
        int n = rows * cols;
        long[] dims = {cols, rows};
        if (type == GgmlType.F16) {
            short[] h = new short[n];
            for (int i = 0; i < n; i++) {
                h[i] = Float.floatToFloat16((float) (rnd.nextGaussian() * std));
            }
            g.addTensor(name, type, dims, MemorySegment.ofArray(h));
        } else {
            float[] f = new float[n];
            for (int i = 0; i < n; i++) {
                f[i] = (float) (rnd.nextGaussian() * std);
            }
            g.addTensor(name, type, dims, MemorySegment.ofArray(f));
        }
    }

    static void vector(GgufWriter g, String name, float[] v) {
        g.addTensor(name, GgmlType.F32, new long[]{v.length}, MemorySegment.ofArray(v));
    }

    static float[] near1(SplittableRandom rnd, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (1 + rnd.nextGaussian() * std);
        }
        return a;
    }

    public static void main(String[] args) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
            Path out = Path.of(args[0], "gemma2-" + type.name().toLowerCase(Locale.ROOT) + ".gguf");
            write(type, out);
            System.out.println("wrote " + out);
        }
    }
}
