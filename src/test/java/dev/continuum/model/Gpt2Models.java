package dev.continuum.model;

import dev.continuum.loader.GgufExporter;
import dev.continuum.loader.GgufWriter;
import dev.continuum.tensor.GgmlType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A small GPT-2-shaped file (dim 64, 2 layers, 4 heads of 16, feed-forward 256 = 4 x dim, vocabulary 512,
 * context 256), seeded, written with {@link GgufWriter} under the tensor names and metadata keys llama.cpp's
 * converter writes for {@code gpt2} ({@code convert_hf_to_gguf.py}, GPT2Model): learned {@code position_embd},
 * LayerNorms with weight and bias, a fused {@code attn_qkv} with bias, biased output and feed-forward matrices, and
 * {@code output.weight} a copy of {@code token_embd.weight} (GPT-2 ties them; the converter writes both, and
 * llama.cpp c392e509 requires {@code output.weight}). The vocabulary is the exporter's SentencePiece one, which
 * both engines load (the file's architecture, not its tokenizer, is under test).
 *
 * <p>Run as a program to write {@code gpt2-f32.gguf} and {@code gpt2-f16.gguf}: {@code Gpt2Models DIR}.
 */
public final class Gpt2Models {
    static final int DIM = 64;
    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int FFN = 256;
    static final int VOCAB = 512;
    static final int CONTEXT = 256;
    static final float EPS = 1e-5f;

    private Gpt2Models() {
    }

    /**
     * Writes the model with its matrices in {@code type}; {@code tied}: without {@code output.weight}, so that the
     * output is the token embedding itself (a file llama.cpp c392e509 refuses, Continuum reads).
     * {@code without}: a tensor left out (null: none), to test that the loader refuses the file by name.
     */
    static void write(Path file, GgmlType type, boolean tied, String without) throws IOException {
        GgufWriter g = new GgufWriter()
                .putString("general.architecture", "gpt2")
                .putString("general.name", "gpt2-test")
                .putUint32("general.file_type", type == GgmlType.F16 ? 1 : 0)
                .putUint32("gpt2.block_count", LAYERS)
                .putUint32("gpt2.context_length", CONTEXT)
                .putUint32("gpt2.embedding_length", DIM)
                .putUint32("gpt2.feed_forward_length", FFN)
                .putUint32("gpt2.attention.head_count", HEADS)
                .putFloat32("gpt2.attention.layer_norm_epsilon", EPS);
        GgufExporter.vocabulary(g, VOCAB);
        SeededTensors sink = new SeededTensors(20260520L, type, g, without);
        float[] embedding = sink.matrix("token_embd.weight", VOCAB, DIM, 0.3);
        sink.matrix("position_embd.weight", CONTEXT, DIM, 0.5);
        for (int l = 0; l < LAYERS; l++) {
            String p = "blk." + l + ".";
            sink.vector(p + "attn_norm.weight", DIM, 1, 0.1);
            sink.vector(p + "attn_norm.bias", DIM, 0, 0.1);
            // The fused queries, keys and values: larger than the rest so that attention is peaked.
            sink.matrix(p + "attn_qkv.weight", 3 * DIM, DIM, 0.2);
            sink.vector(p + "attn_qkv.bias", 3 * DIM, 0, 0.1);
            sink.matrix(p + "attn_output.weight", DIM, DIM, 0.1);
            sink.vector(p + "attn_output.bias", DIM, 0, 0.05);
            sink.vector(p + "ffn_norm.weight", DIM, 1, 0.1);
            sink.vector(p + "ffn_norm.bias", DIM, 0, 0.1);
            sink.matrix(p + "ffn_up.weight", FFN, DIM, 0.15);
            sink.vector(p + "ffn_up.bias", FFN, 0, 0.1);
            sink.matrix(p + "ffn_down.weight", DIM, FFN, 0.1);
            sink.vector(p + "ffn_down.bias", DIM, 0, 0.05);
        }
        sink.vector("output_norm.weight", DIM, 1, 0.1);
        sink.vector("output_norm.bias", DIM, 0, 0.1);
        if (!tied) {
            sink.matrix("output.weight", embedding, VOCAB, DIM);
        }
        g.write(file);
    }

    /** The prompt: BOS (1), then 63 ids of the rope references' recurrence. */
    static int[] prompt() {
        return RopeScalingModels.prompt(64);
    }

    public static void main(String[] args) throws IOException {
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
            Path out = Path.of(args[0], "gpt2-" + type.name().toLowerCase(Locale.ROOT) + ".gguf");
            write(out, type, false, null);
            System.out.println("wrote " + out);
        }
    }
}
