package dev.continuum.loader;

import dev.continuum.model.Experts;
import dev.continuum.model.LayerWeights;
import dev.continuum.model.LlamaConfig;
import dev.continuum.model.LlamaWeights;
import dev.continuum.model.RopeScaling;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes a loaded model as a llama.cpp-compatible GGUF file (architecture {@code llama} or {@code qwen3}, with its
 * per-head norms), so another engine can
 * run the very same weights: benchmarks give llama.cpp the file Continuum reads. The vocabulary written is a
 * SentencePiece one of the model's size: unknown, BOS, EOS, the 256 byte tokens, then placeholder pieces.
 */
public final class GgufExporter {
    private static final int TOKEN_NORMAL = 1;
    private static final int TOKEN_UNKNOWN = 2;
    private static final int TOKEN_CONTROL = 3;
    private static final int TOKEN_BYTE = 6;
    private static final int FIRST_PIECE = 3 + 256;

    private GgufExporter() {
    }

    public static void write(LoadedModel model, Path out) throws IOException {
        LlamaConfig c = model.config();
        String a = c.architecture().ggufName();
        if (!c.architecture().exportable() || c.vocabSize() < FIRST_PIECE) {
            throw new IllegalArgumentException("only llama and qwen3 models with at least " + FIRST_PIECE
                    + " tokens can be exported, got " + a + " with " + c.vocabSize());
        }
        LlamaWeights w = model.weights();
        GgufWriter g = new GgufWriter()
                .putString("general.architecture", a)
                .putString("general.name", model.name())
                .putUint32("general.file_type", fileType(mainMatrix(w.layers()[0])))
                .putUint32(a + ".context_length", c.contextLength())
                .putUint32(a + ".embedding_length", c.dim())
                .putUint32(a + ".block_count", c.layers())
                .putUint32(a + ".feed_forward_length", c.ffnDim())
                .putUint32(a + ".attention.head_count", c.heads())
                .putUint32(a + ".attention.head_count_kv", c.kvHeads())
                .putUint32(a + ".rope.dimension_count", c.ropeDims())
                .putFloat32(a + ".attention.layer_norm_rms_epsilon", c.rmsEps())
                .putFloat32(a + ".rope.freq_base", c.ropeTheta());
        if (c.headDim() * c.heads() != c.dim()) {
            // Qwen3's heads are wider than dim / heads (llama exports keep their bytes: the key is derived there).
            g.putUint32(a + ".attention.key_length", c.headDim()).putUint32(a + ".attention.value_length", c.headDim());
        }
        if (c.slidingWindow().size() > 0) {
            if (c.slidingWindow().globalEvery() != 0) {
                throw new IllegalArgumentException("only a sliding window over every layer can be exported");
            }
            g.putUint32(a + ".attention.sliding_window", c.slidingWindow().size());
        }
        if (c.expertCount() != 0) {
            g.putUint32(a + ".expert_count", c.expertCount()).putUint32(a + ".expert_used_count", c.expertsUsed());
        }
        ropeScaling(g, a, c.ropeScaling());
        vocabulary(g, c.vocabSize());
        matrix(g, "token_embd.weight", w.tokenEmbedding());
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights lw = w.layers()[l];
            String p = "blk." + l + ".";
            vector(g, p + "attn_norm.weight", lw.attnNorm());
            matrix(g, p + "attn_q.weight", lw.wq());
            matrix(g, p + "attn_k.weight", lw.wk());
            matrix(g, p + "attn_v.weight", lw.wv());
            matrix(g, p + "attn_output.weight", lw.wo());
            if (lw.qNorm() != null) {
                vector(g, p + "attn_q_norm.weight", lw.qNorm());
                vector(g, p + "attn_k_norm.weight", lw.kNorm());
            }
            vector(g, p + "ffn_norm.weight", lw.ffnNorm());
            if (lw.experts() != null) {
                experts(g, p, lw.experts());
            } else {
                matrix(g, p + "ffn_gate.weight", lw.gate());
                matrix(g, p + "ffn_up.weight", lw.up());
                matrix(g, p + "ffn_down.weight", lw.down());
            }
        }
        vector(g, "output_norm.weight", w.outputNorm());
        if (w.output() != w.tokenEmbedding()) {
            matrix(g, "output.weight", w.output());
        }
        g.write(out);
    }

    /** The keys (and rope_freqs tensor) llama.cpp reads the scaling from; nothing for a model without scaling. */
    private static void ropeScaling(GgufWriter g, String a, RopeScaling s) {
        if (s.isIdentity()) {
            return;
        }
        g.putString(a + ".rope.scaling.type", s.type().name().toLowerCase(Locale.ROOT))
                .putFloat32(a + ".rope.scaling.factor", 1 / s.freqScale())
                .putFloat32(a + ".rope.scaling.attn_factor", s.attnFactor())
                .putUint32(a + ".rope.scaling.original_context_length", s.originalContext());
        if (s.freqFactors() != null) {
            vector(g, "rope_freqs.weight", s.freqFactors());
        }
    }

    /**
     * Writes the vocabulary the exporter gives every model of {@code size} tokens (at least 259): a SentencePiece
     * one both engines load; public so that files of architectures the exporter does not write (written directly
     * with {@link GgufWriter}, as the architecture tests do) carry the same.
     */
    public static void vocabulary(GgufWriter g, int size) {
        List<String> tokens = new ArrayList<>(size);
        float[] scores = new float[size];
        int[] types = new int[size];
        tokens.add("<unk>");
        tokens.add("<s>");
        tokens.add("</s>");
        types[0] = TOKEN_UNKNOWN;
        types[1] = TOKEN_CONTROL;
        types[2] = TOKEN_CONTROL;
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types[3 + b] = TOKEN_BYTE;
        }
        for (int i = FIRST_PIECE; i < size; i++) {
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

    private static void matrix(GgufWriter g, String name, WeightTensor t) {
        g.addTensor(name, t.type(), new long[]{t.cols(), t.rows()}, t::writeRowMajor);
    }

    /**
     * A mixture of experts as llama.cpp's converter writes Mixtral: the router {@code ffn_gate_inp} ({@code [dim,
     * experts]}) and each of gate, up and down as one 3-D tensor ({@code [cols, rows, experts]}) holding the
     * experts' row-major matrices one after another.
     */
    private static void experts(GgufWriter g, String p, Experts e) {
        matrix(g, p + "ffn_gate_inp.weight", e.router());
        stacked(g, p + "ffn_gate_exps.weight", e.gate());
        stacked(g, p + "ffn_up_exps.weight", e.up());
        stacked(g, p + "ffn_down_exps.weight", e.down());
    }

    private static void stacked(GgufWriter g, String name, WeightTensor[] experts) {
        WeightTensor first = experts[0];
        for (WeightTensor t : experts) {
            if (t.type() != first.type() || t.rows() != first.rows() || t.cols() != first.cols()) {
                throw new IllegalArgumentException("the experts of '" + name + "' differ in type or shape");
            }
        }
        long bytes = first.data().byteSize();
        g.addTensor(name, first.type(), new long[]{first.cols(), first.rows(), experts.length}, target -> {
            for (int i = 0; i < experts.length; i++) {
                experts[i].writeRowMajor(target.asSlice(i * bytes, bytes));
            }
        });
    }

    /** The matrix whose type names the file's: the feed-forward's down projection (the first expert's). */
    private static WeightTensor mainMatrix(LayerWeights l) {
        return l.experts() != null ? l.experts().down()[0] : l.down();
    }

    private static void vector(GgufWriter g, String name, float[] v) {
        g.addTensor(name, GgmlType.F32, new long[]{v.length}, MemorySegment.ofArray(v.clone()));
    }

    /** llama.cpp's {@code general.file_type} for a model whose layers are mostly {@code t}'s type. */
    private static int fileType(WeightTensor t) {
        return switch (t.type()) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("cannot export " + t.type());
        };
    }
}
