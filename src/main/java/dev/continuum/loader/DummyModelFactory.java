package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.model.Architecture;
import dev.continuum.model.Experts;
import dev.continuum.model.LayerWeights;
import dev.continuum.model.LlamaConfig;
import dev.continuum.model.LlamaWeights;
import dev.continuum.model.RopeScaling;
import dev.continuum.model.RopeType;
import dev.continuum.model.SlidingWindow;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightEncoder;
import dev.continuum.tensor.WeightTensor;
import dev.continuum.tokenizer.ByteLevelTokenizer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Seeded random-weight Llama models at named shapes (like vLLM's dummy load format): the embedded default model
 * and the subject of benchmarks. Weights are normal(0, 0.02), norms 1, like llama.cpp's random test models;
 * the text they produce is noise by design.
 */
public final class DummyModelFactory {
    /**
     * A named model shape; {@code experts > 0} makes each layer's feed-forward a mixture of that many experts of
     * {@code ffnDim} each, {@code expertsUsed} per token (Mixtral's layout).
     */
    public record Shape(String name, int dim, int layers, int heads, int kvHeads, int ffnDim, int vocab, int context,
                        int experts, int expertsUsed) {
        /** A dense shape. */
        public Shape(String name, int dim, int layers, int heads, int kvHeads, int ffnDim, int vocab, int context) {
            this(name, dim, layers, heads, kvHeads, ffnDim, vocab, context, 0, 0);
        }
    }

    private static final Shape[] SHAPES = {
            new Shape("tiny", 64, 2, 4, 2, 192, 512, 1024),
            new Shape("15m", 288, 6, 6, 6, 768, 32000, 2048),
            new Shape("110m", 768, 12, 12, 12, 2048, 32000, 2048),
            new Shape("1b", 2048, 22, 32, 4, 5632, 32000, 2048),
            // Mixtral-shaped, for the grouped-experts benchmark: 8 experts of 2048, 2 per token (~210M parameters).
            new Shape("moe", 1024, 4, 16, 4, 2048, 32000, 2048, 8, 2),
    };
    private static final long SEED = 0x5EED_C0FFEEL;

    private DummyModelFactory() {
    }

    /** {@code spec} is {@code NAME[:TYPE]} (the part after "dummy:"), e.g. {@code 110m:q8_0}. */
    public static LoadedModel create(String spec) {
        String[] parts = spec.toLowerCase(Locale.ROOT).split(":");
        Shape shape = Arrays.stream(SHAPES).filter(s -> s.name.equals(parts[0])).findFirst()
                .orElseThrow(() -> new ModelFormatException("unknown dummy model '" + parts[0] + "' (known: "
                        + String.join(", ", Arrays.stream(SHAPES).map(Shape::name).toList()) + ")"));
        GgmlType type = parts.length > 1 ? parseType(parts[1]) : GgmlType.F32;
        if (parts.length > 2) {
            throw new ModelFormatException("dummy model spec 'dummy:" + spec + "' has too many parts (dummy:NAME[:TYPE])");
        }
        return create(shape, type);
    }

    /**
     * The types a dummy model can be made of: those {@link WeightEncoder} writes, a subset of the types
     * {@link WeightTensor} reads (it reads the K-quants, but nothing here encodes them).
     */
    private static final java.util.Set<GgmlType> DUMMY_TYPES = java.util.EnumSet.of(GgmlType.F32, GgmlType.F16,
            GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0);

    private static GgmlType parseType(String s) {
        for (GgmlType t : DUMMY_TYPES) {
            if (t.name().equalsIgnoreCase(s)) {
                return t;
            }
        }
        throw new ModelFormatException("unknown weight type '" + s + "' for a dummy model (f32, f16, bf16, q8_0, q4_0)");
    }

    public static LoadedModel create(Shape s, GgmlType type) {
        int headDim = s.dim / s.heads;
        LlamaConfig config = new LlamaConfig(Architecture.LLAMA, s.dim, s.layers, s.heads, s.kvHeads, headDim, s.ffnDim, s.vocab,
                s.context, 1e-5f, 10000f, headDim, RopeType.INTERLEAVED, RopeScaling.NONE, SlidingWindow.NONE, 0f, 0f,
                s.experts, s.expertsUsed);
        Arena arena = Arena.ofShared();
        Generator g = new Generator(arena, type);
        LayerWeights[] layers = new LayerWeights[s.layers];
        for (int l = 0; l < s.layers; l++) {
            float[] ones = ones(s.dim);
            boolean dense = s.experts == 0;
            layers[l] = new LayerWeights(ones,
                    g.matrix(config.qDim(), s.dim), g.matrix(config.kvDim(), s.dim), g.matrix(config.kvDim(), s.dim),
                    null, null, null,
                    g.matrix(s.dim, config.qDim()), ones,
                    dense ? g.matrix(s.ffnDim, s.dim) : null, dense ? g.matrix(s.ffnDim, s.dim) : null,
                    dense ? g.matrix(s.dim, s.ffnDim) : null);
            if (!dense) {
                layers[l] = layers[l].withExperts(experts(g, s));
            }
        }
        LlamaWeights weights = new LlamaWeights(g.matrix(s.vocab, s.dim), layers, ones(s.dim), g.matrix(s.vocab, s.dim));
        String name = "dummy:" + s.name + (type == GgmlType.F32 ? "" : ":" + type.name().toLowerCase(Locale.ROOT));
        String description = String.format("%s (RANDOM WEIGHTS, output is noise; %s, %.1fM parameters, %d layers,"
                + " dim %d)", name, type, config.parameterCount() / 1e6, s.layers, s.dim);
        return new LoadedModel(name, description, config, weights, new ByteLevelTokenizer(s.vocab), null, arena);
    }

    /** A layer's experts: an F32 router (as llama.cpp's converter keeps it) and SwiGLU matrices per expert. */
    private static Experts experts(Generator g, Shape s) {
        WeightTensor router = g.matrix(s.experts, s.dim, GgmlType.F32);
        WeightTensor[] gate = new WeightTensor[s.experts];
        WeightTensor[] up = new WeightTensor[s.experts];
        WeightTensor[] down = new WeightTensor[s.experts];
        for (int e = 0; e < s.experts; e++) {
            gate[e] = g.matrix(s.ffnDim, s.dim);
            up[e] = g.matrix(s.ffnDim, s.dim);
            down[e] = g.matrix(s.dim, s.ffnDim);
        }
        return new Experts(router, gate, up, down);
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }

    /** Fills tensors one after another from a seeded stream, each row from its own seed so rows fill in parallel. */
    private static final class Generator {
        private final Arena arena;
        private final GgmlType type;
        private int tensorIndex;

        Generator(Arena arena, GgmlType type) {
            this.arena = arena;
            this.type = type;
        }

        WeightTensor matrix(int rows, int cols) {
            return matrix(rows, cols, type);
        }

        WeightTensor matrix(int rows, int cols, GgmlType type) {
            long rowBytes = type.bytesFor(cols);
            MemorySegment data = arena.allocate(rowBytes * rows, 64);
            long tensorSeed = SEED * 31 + (tensorIndex++);
            IntStream.range(0, rows).parallel().forEach(r -> {
                SplittableRandom rnd = new SplittableRandom(tensorSeed * 1_000_003L + r);
                float[] row = new float[cols];
                for (int j = 0; j < cols; j++) {
                    row[j] = (float) (rnd.nextGaussian() * 0.02);
                }
                WeightEncoder.encode(type, row, 0, cols, data, rowBytes * r);
            });
            return WeightTensor.of("dummy#" + tensorIndex, type, data, rows, cols);
        }
    }
}
