package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.model.Architecture;
import dev.continuum.model.LlamaConfig;
import dev.continuum.model.RopeScaling;
import dev.continuum.model.RopeType;
import dev.continuum.model.SlidingWindow;
import dev.continuum.tensor.GgmlType;

import java.lang.foreign.ValueLayout;

import java.util.BitSet;

/**
 * Reads a Llama-family model's hyper-parameters from GGUF metadata and checks each against the tensor table and
 * sane bounds before anything is sized from it: a hostile or corrupt file must be refused with the key, its
 * value and what it must be, not take the server down with an out-of-memory error (a layer array sized by a
 * billion-layer {@code block_count}) or fail at the first request (scratch sized by a context length that
 * overflows {@code int}).
 */
final class LlamaConfigReader {
    private final GgufFile file;
    private final GgufMetadata md;
    private final String src;
    private final Architecture architecture;
    private final String arch;

    private LlamaConfigReader(GgufFile file, Architecture architecture) {
        this.file = file;
        this.md = file.metadata();
        this.src = file.path().getFileName().toString();
        this.architecture = architecture;
        this.arch = architecture.ggufName();
    }

    static LlamaConfig read(GgufFile file, Architecture architecture) {
        return new LlamaConfigReader(file, architecture).read(architecture.ropeType());
    }

    private LlamaConfig read(RopeType ropeType) {
        GgufTensorInfo embedding = file.tensor("token_embd.weight");
        int dim = positive("embedding_length");
        mustEqual("embedding_length", dim, embedding.columns(), "the width of tensor 'token_embd.weight'");

        int layers = positive("block_count");
        int present = layersPresent();
        if (layers != present) {
            throw invalid("block_count", layers, "equal the number of layers in the tensor table (" + present
                    + (present > 0 ? ": blk.0 to blk." + (present - 1) : "") + ")");
        }

        int heads = positive("attention.head_count");
        int headDim;
        if (md.has(key("attention.key_length"))) {
            headDim = positive("attention.key_length");
        } else if (dim % heads != 0) {
            throw invalid("attention.head_count", heads, "divide embedding_length " + dim
                    + " (or the file must give " + key("attention.key_length") + ")");
        } else {
            headDim = dim / heads;
        }
        int kvHeads = md.has(key("attention.head_count_kv")) ? positive("attention.head_count_kv") : heads;
        if (heads % kvHeads != 0) {
            throw invalid("attention.head_count_kv", kvHeads, "divide attention.head_count " + heads);
        }
        // The products are compared as longs: in int, a hostile head count could wrap onto the right value.
        if (FusedLayers.fusedQkv(architecture)) {
            fusedHeadsMatch(dim, heads, kvHeads, headDim);
        } else {
            headsMatch("attention.head_count", heads, headDim, "blk.0.attn_q.weight");
            headsMatch("attention.head_count_kv", kvHeads, headDim, "blk.0.attn_k.weight");
        }

        int ffnDim = positive("feed_forward_length");
        ExpertCounts experts = ExpertCounts.read(this);
        if (experts.count() == 0) {
            String ffnTensor = FusedLayers.ffnRowsTensor(architecture);
            mustEqual("feed_forward_length", (long) ffnDim * FusedLayers.ffnRowsPerUnit(architecture),
                    rows(ffnTensor), "the rows of tensor '" + ffnTensor + "'"
                            + (FusedLayers.ffnRowsPerUnit(architecture) == 2 ? " (gate and up), halved" : ""));
        } else {
            mustEqual("feed_forward_length", ffnDim, file.tensor(ExpertCounts.GATE).dims()[1],
                    "dimension 1 of tensor '" + ExpertCounts.GATE + "'");
        }

        int context = positive("context_length");
        if (context > LlamaConfig.MAX_CONTEXT_LENGTH) {
            throw invalid("context_length", context, "be at most " + LlamaConfig.MAX_CONTEXT_LENGTH);
        }
        // Per-sequence buffers: a score per position per query head, a KV entry per position per KV dimension.
        long scores = (long) heads * context;
        if (scores > LlamaConfig.MAX_SEQUENCE_ELEMENTS) {
            throw invalid("context_length", context, "keep context_length x head_count (" + scores + ") at most "
                    + LlamaConfig.MAX_SEQUENCE_ELEMENTS);
        }
        long kvPerLayer = (long) kvHeads * headDim * context;
        if (kvPerLayer > LlamaConfig.MAX_SEQUENCE_ELEMENTS) {
            throw invalid("context_length", context, "keep context_length x KV dimension (" + kvPerLayer
                    + ") at most " + LlamaConfig.MAX_SEQUENCE_ELEMENTS);
        }

        long vocab = embedding.rows();
        if (vocab > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(src + ": tensor 'token_embd.weight' has " + vocab + " rows: a vocabulary"
                    + " must have fewer than 2^31 tokens");
        }
        String[] tokens = md.getStringArray("tokenizer.ggml.tokens");
        if (tokens != null && tokens.length != vocab) {
            throw new ModelFormatException(src + ": metadata 'tokenizer.ggml.tokens' has " + tokens.length
                    + " tokens, but tensor 'token_embd.weight' has " + vocab + " rows: they must be equal");
        }
        if (md.has(key("vocab_size"))) {
            mustEqual("vocab_size", md.getInt(key("vocab_size")), vocab, "the rows of tensor 'token_embd.weight'");
        }

        int ropeDims = md.has(key("rope.dimension_count")) ? positive("rope.dimension_count") : headDim;
        if (ropeDims % 2 != 0 || ropeDims > headDim) {
            throw invalid("rope.dimension_count", ropeDims, "be even and at most the head dimension " + headDim);
        }
        // GPT-2's LayerNorms have their own epsilon key, which llama.cpp requires.
        String epsKey = architecture == Architecture.GPT2 ? "attention.layer_norm_epsilon"
                : "attention.layer_norm_rms_epsilon";
        if (architecture == Architecture.GPT2 && !md.has(key(epsKey))) {
            throw new ModelFormatException(src + ": required metadata '" + key(epsKey) + "' is missing");
        }
        float eps = md.getFloat(key(epsKey), 1e-5f);
        if (!(eps > 0) || !Float.isFinite(eps)) {
            throw invalid(epsKey, eps, "be a positive finite number");
        }
        float theta = md.getFloat(key("rope.freq_base"), 10000f);
        if (!(theta > 0) || !Float.isFinite(theta)) {
            throw invalid("rope.freq_base", theta, "be a positive finite number");
        }
        RopeScaling scaling = ropeScaling(context, ropeDims);
        boolean gemma2 = architecture == Architecture.GEMMA2;
        SlidingWindow window = switch (architecture) {
            case GEMMA2 -> gemma2Window();
            case GEMMA3 -> new SlidingWindow(positive("attention.sliding_window"), 6); // required, as llama.cpp has it
            case PHI3 -> phi3SlidingWindow(layers, kvHeads, context);
            default -> slidingWindow(context);
        };
        float attnCap = gemma2 ? softcap("attn_logit_softcapping", 50f) : 0f;
        float finalCap = gemma2 ? softcap("final_logit_softcapping", 30f) : 0f;
        try {
            return new LlamaConfig(architecture, dim, layers, heads, kvHeads, headDim, ffnDim, (int) vocab, context, eps,
                    theta, ropeDims, ropeType, scaling, window, attnCap, finalCap, experts.count(), experts.used());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(src + ": " + e.getMessage(), e);
        }
    }

    /**
     * Mistral's sliding window where the file sets one ({@code attention.sliding_window}: every layer attends to
     * that many positions, its own included); none when absent or at least the context long. Only the Llama block's
     * architectures read it here: the others' windows follow their own rules.
     */
    private SlidingWindow slidingWindow(int context) {
        String name = "attention.sliding_window";
        if (!md.has(key(name)) || !(architecture == Architecture.LLAMA || architecture == Architecture.MISTRAL)) {
            return SlidingWindow.NONE;
        }
        int size = positive(name);
        return size >= context ? SlidingWindow.NONE : SlidingWindow.everyLayer(size);
    }

    /**
     * The rope scaling as llama.cpp reads it: {@code rope.scaling.type} (default linear; none, linear and yarn are
     * computed, others refused by name), {@code rope.scaling.factor} (or the old {@code rope.scale_linear}),
     * {@code rope.scaling.attn_factor}, {@code rope.scaling.original_context_length}, and the frequency factors of
     * a {@code rope_freqs.weight} tensor (Llama 3.x's {@code llama3} scaling, which the converter bakes into it).
     */
    private RopeScaling ropeScaling(int context, int ropeDims) {
        String typeName = md.getString(key("rope.scaling.type"), "linear");
        RopeScaling.Type type = switch (typeName) {
            case "none" -> RopeScaling.Type.NONE;
            case "linear" -> RopeScaling.Type.LINEAR;
            case "yarn" -> RopeScaling.Type.YARN;
            default -> throw new ModelFormatException(src + ": metadata '" + key("rope.scaling.type") + "' is '"
                    + typeName + "': supported rope scaling types are none, linear and yarn");
        };
        float factor = md.has(key("rope.scaling.factor")) ? md.getFloat(key("rope.scaling.factor"), 0f)
                : md.getFloat(key("rope.scale_linear"), 0f);
        if (!(factor >= 0) || !Float.isFinite(factor)) {
            throw invalid("rope.scaling.factor", factor, "be a non-negative finite number");
        }
        float freqScale = type == RopeScaling.Type.NONE || factor == 0 ? 1f : 1f / factor;
        float attnFactor = md.getFloat(key("rope.scaling.attn_factor"), 1f);
        if (!(attnFactor > 0) || !Float.isFinite(attnFactor)) {
            throw invalid("rope.scaling.attn_factor", attnFactor, "be a positive finite number");
        }
        int original = md.has(key("rope.scaling.original_context_length"))
                ? positive("rope.scaling.original_context_length") : context;
        // Phi-3's longrope: llama.cpp divides by the long factors when a sequence's context exceeds the original
        // one, by the short factors otherwise; here the context served is the file's.
        String factorTensor = architecture != Architecture.PHI3 ? "rope_freqs.weight"
                : context > original ? "rope_factors_long.weight" : "rope_factors_short.weight";
        float[] factors = null;
        GgufTensorInfo freqs = file.tensors().get(factorTensor);
        if (freqs != null) {
            if (freqs.type() != GgmlType.F32 || freqs.elementCount() != ropeDims / 2) {
                throw new ModelFormatException(src + ": tensor '" + factorTensor + "' must be F32 with " + ropeDims / 2
                        + " values (one per rotated pair), not " + freqs.type() + " with " + freqs.elementCount());
            }
            factors = file.bytes(freqs).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED);
        }
        try {
            return new RopeScaling(type, freqScale, attnFactor, original, factors);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(src + ": " + e.getMessage(), e);
        }
    }

    /**
     * Phi-3's window, as llama.cpp reads it: {@code phi3.attention.sliding_window} (0: none, as Phi-4 writes),
     * or where the key is absent the window of the known model the layer counts match (Phi-3 mini and medium 4k:
     * 2047; mini 128k: 262 144; medium 128k: 131 072), else the file is refused.
     */
    private SlidingWindow phi3SlidingWindow(int layers, int kvHeads, int context) {
        int size;
        if (md.has(key("attention.sliding_window"))) {
            size = md.getInt(key("attention.sliding_window"));
            if (size < 0) {
                throw invalid("attention.sliding_window", size, "be 0 (no window) or positive");
            }
        } else if ((layers == 32 || layers == 40) && context == 4096) {
            size = 2047;
        } else if (layers == 32 && kvHeads == 32 && context == 131072) {
            size = 262144;
        } else if (layers == 40 && context == 131072) {
            size = 131072;
        } else {
            throw new ModelFormatException(src + ": required metadata '" + key("attention.sliding_window")
                    + "' is missing (a Phi-3 file must give its sliding window)");
        }
        return size == 0 ? SlidingWindow.NONE : SlidingWindow.everyLayer(size);
    }

    /** The fused attn_qkv's rows are the query, key and value heads' (GPT-2, Phi-3: the queries as wide as dim). */
    private void fusedHeadsMatch(int dim, int heads, int kvHeads, int headDim) {
        String tensor = "blk.0.attn_qkv.weight";
        long rows = rows(tensor);
        if ((long) heads * headDim != dim) {
            throw invalid("attention.head_count", heads, "divide embedding_length " + dim + " into heads of "
                    + headDim + " (the fused queries are as wide as the embedding)");
        }
        if ((heads + 2L * kvHeads) * headDim != rows) {
            throw invalid("attention.head_count_kv", kvHeads, "make (head_count + 2 x head_count_kv) x head dimension"
                    + " the rows of tensor '" + tensor + "' (" + rows + ")");
        }
    }

    /**
     * Gemma 2's windows as llama.cpp reads them: {@code attention.sliding_window} positions (default 4096) on even
     * layers, the odd ones global.
     */
    private SlidingWindow gemma2Window() {
        int size = md.has(key("attention.sliding_window")) ? positive("attention.sliding_window") : 4096;
        return new SlidingWindow(size, 2);
    }

    /** A soft-cap key ({@code c} in {@code c tanh(s / c)}), {@code fallback} when absent: positive and finite. */
    private float softcap(String suffix, float fallback) {
        float cap = md.getFloat(key(suffix), fallback);
        if (!(cap > 0) || !Float.isFinite(cap)) {
            throw invalid(suffix, cap, "be a positive finite number");
        }
        return cap;
    }

    /**
     * How many layers the tensor table holds: the {@code blk.N.} prefixes must run from 0 without a gap, as a
     * model's layers do.
     */
    private int layersPresent() {
        BitSet seen = new BitSet();
        for (String name : file.tensors().keySet()) {
            if (!name.startsWith("blk.")) {
                continue;
            }
            int dot = name.indexOf('.', 4);
            int index = dot < 0 ? -1 : parseIndex(name.substring(4, dot));
            if (index < 0 || index >= file.tensors().size()) {
                throw new ModelFormatException(src + ": tensor '" + name + "' does not name a layer this file can"
                        + " hold (blk.N. with N below the tensor count " + file.tensors().size() + ")");
            }
            seen.set(index);
        }
        int count = seen.cardinality();
        if (count != seen.length()) {
            throw new ModelFormatException(src + ": the tensor table has layers up to blk." + (seen.length() - 1)
                    + " but lacks blk." + seen.nextClearBit(0));
        }
        return count;
    }

    private static int parseIndex(String digits) {
        if (digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(Character::isDigit)
                || (digits.length() > 1 && digits.charAt(0) == '0')) {
            return -1;
        }
        return Integer.parseInt(digits);
    }

    GgufFile file() {
        return file;
    }

    boolean has(String suffix) {
        return md.has(key(suffix));
    }

    String key(String suffix) {
        return arch + "." + suffix;
    }

    int positive(String suffix) {
        String key = key(suffix);
        int v;
        try {
            v = md.getInt(key);
        } catch (ModelFormatException e) {
            throw new ModelFormatException(src + ": " + e.getMessage(), e);
        }
        if (v <= 0) {
            throw invalid(suffix, v, "be positive");
        }
        return v;
    }

    private long rows(String tensor) {
        return file.tensor(tensor).rows();
    }

    private void headsMatch(String suffix, int heads, int headDim, String tensor) {
        long rows = rows(tensor);
        if ((long) heads * headDim != rows) {
            throw invalid(suffix, heads, "be the rows of tensor '" + tensor + "' (" + rows + ") divided by the head"
                    + " dimension " + headDim);
        }
    }

    private void mustEqual(String suffix, long value, long expected, String what) {
        if (value != expected) {
            throw invalid(suffix, value, "equal " + what + " (" + expected + ")");
        }
    }

    ModelFormatException invalid(String suffix, Object value, String must) {
        return new ModelFormatException(src + ": metadata '" + key(suffix) + "' = " + value + " is invalid: it must "
                + must);
    }
}
