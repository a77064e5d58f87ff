package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.model.Architecture;
import dev.continuum.model.LayerWeights;
import dev.continuum.model.LlamaConfig;
import dev.continuum.model.LlamaWeights;
import dev.continuum.model.RopeType;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;
import dev.continuum.tokenizer.Llama2cTokenizerReader;
import dev.continuum.tokenizer.Tokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads a llama2.c checkpoint (the "v0" float32 format of run.c: a 7-int header, then every weight in a fixed
 * order; a negative vocabulary size means a separate classifier follows) with a llama2.c tokenizer file.
 */
public final class Llama2cModelLoader {
    private static final int HEADER_BYTES = 7 * 4;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Llama2cModelLoader() {
    }

    public static LoadedModel load(Path checkpoint, Path tokenizerPath) {
        if (!Files.isRegularFile(checkpoint)) {
            throw new ModelFormatException(checkpoint + ": no such model file");
        }
        if (tokenizerPath == null || !Files.isRegularFile(tokenizerPath)) {
            throw new ModelFormatException(checkpoint.getFileName()
                    + ": a llama2.c checkpoint needs its tokenizer file (--tokenizer), not found: " + tokenizerPath);
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file = FileMapping.map(checkpoint, arena);
            return build(checkpoint, file, tokenizerPath, arena);
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(checkpoint + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static LoadedModel build(Path path, MemorySegment file, Path tokenizerPath, Arena arena) {
        String src = path.getFileName().toString();
        if (file.byteSize() < HEADER_BYTES) {
            throw new ModelFormatException(src + ": truncated llama2.c checkpoint (" + file.byteSize() + " bytes)");
        }
        int dim = file.get(I32, 0);
        int hidden = file.get(I32, 4);
        int layers = file.get(I32, 8);
        int heads = file.get(I32, 12);
        int kvHeads = file.get(I32, 16);
        int rawVocab = file.get(I32, 20);
        int seqLen = file.get(I32, 24);
        boolean shared = rawVocab > 0;
        int vocab = Math.abs(rawVocab);
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab <= 0 || seqLen <= 0
                || rawVocab == Integer.MIN_VALUE || dim % heads != 0 || heads % kvHeads != 0) {
            throw new ModelFormatException(src + ": not a llama2.c checkpoint (header dim=" + dim + " hidden=" + hidden
                    + " layers=" + layers + " heads=" + heads + " kv_heads=" + kvHeads + " vocab=" + rawVocab
                    + " seq_len=" + seqLen + ")");
        }
        int headDim = dim / heads;
        LlamaConfig config;
        try {
            config = new LlamaConfig(Architecture.LLAMA, dim, layers, heads, kvHeads, headDim, hidden, vocab, seqLen,
                    1e-5f, 10000f, headDim, RopeType.INTERLEAVED);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(src + ": " + e.getMessage(), e);
        }
        long kvDim = config.kvDim();
        long expected;
        try {
            long floats = Math.addExact(Math.multiplyExact((long) vocab, dim), (long) layers * (2L * dim
                    + 2L * dim * dim + 2L * dim * kvDim + 3L * dim * hidden)) + dim + (long) seqLen * headDim;
            if (!shared) {
                floats += (long) vocab * dim;
            }
            expected = Math.addExact(HEADER_BYTES, Math.multiplyExact(floats, 4L));
        } catch (ArithmeticException e) {
            throw new ModelFormatException(src + ": header dimensions overflow: not a llama2.c checkpoint");
        }
        if (file.byteSize() != expected) {
            throw new ModelFormatException(src + ": file has " + file.byteSize() + " bytes but its header (dim=" + dim
                    + ", layers=" + layers + ", vocab=" + rawVocab + ") implies " + expected + ": truncated or not a"
                    + " llama2.c v0 checkpoint");
        }
        Cursor c = new Cursor(file, HEADER_BYTES);
        WeightTensor embedding = c.matrix("token_embedding", vocab, dim);
        float[][] attnNorm = c.vectors(layers, dim);
        WeightTensor[] wq = c.matrices("wq", layers, dim, dim);
        WeightTensor[] wk = c.matrices("wk", layers, (int) kvDim, dim);
        WeightTensor[] wv = c.matrices("wv", layers, (int) kvDim, dim);
        WeightTensor[] wo = c.matrices("wo", layers, dim, dim);
        float[][] ffnNorm = c.vectors(layers, dim);
        WeightTensor[] w1 = c.matrices("w1", layers, hidden, dim);
        WeightTensor[] w2 = c.matrices("w2", layers, dim, hidden);
        WeightTensor[] w3 = c.matrices("w3", layers, hidden, dim);
        float[] outputNorm = c.vectors(1, dim)[0];
        c.skip((long) seqLen * headDim * 4); // freq_cis_real and freq_cis_imag: recomputed instead
        WeightTensor output = shared ? embedding : c.matrix("wcls", vocab, dim);

        LayerWeights[] blocks = new LayerWeights[layers];
        for (int l = 0; l < layers; l++) {
            blocks[l] = new LayerWeights(attnNorm[l], wq[l], wk[l], wv[l], null, null, null, wo[l],
                    ffnNorm[l], w1[l], w3[l], w2[l]);
        }
        Tokenizer tokenizer = Llama2cTokenizerReader.read(tokenizerPath, vocab);
        String description = String.format("%s (llama2.c checkpoint, F32, %.2fM parameters, %d layers, dim %d,"
                + " context %d)", src, config.parameterCount() / 1e6, layers, dim, seqLen);
        return new LoadedModel(src, description, config, new LlamaWeights(embedding, blocks, outputNorm, output),
                tokenizer, null, arena);
    }

    /** Walks the checkpoint's weights in file order. */
    private static final class Cursor {
        private final MemorySegment file;
        private long offset;

        Cursor(MemorySegment file, long offset) {
            this.file = file;
            this.offset = offset;
        }

        WeightTensor matrix(String name, int rows, int cols) {
            long bytes = (long) rows * cols * 4;
            WeightTensor t = WeightTensor.of(name, GgmlType.F32, file.asSlice(offset, bytes), rows, cols);
            offset += bytes;
            return t;
        }

        WeightTensor[] matrices(String name, int layers, int rows, int cols) {
            WeightTensor[] out = new WeightTensor[layers];
            for (int l = 0; l < layers; l++) {
                out[l] = matrix(name + "[" + l + "]", rows, cols);
            }
            return out;
        }

        float[][] vectors(int count, int n) {
            float[][] out = new float[count][n];
            for (int i = 0; i < count; i++) {
                MemorySegment.copy(file, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), offset,
                        out[i], 0, n);
                offset += 4L * n;
            }
            return out;
        }

        void skip(long bytes) {
            offset += bytes;
        }
    }
}
