package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.model.Experts;
import dev.continuum.model.LlamaConfig;
import dev.continuum.tensor.WeightTensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Reads a layer's mixture-of-experts tensors as llama.cpp's converter writes Mixtral: the router
 * {@code ffn_gate_inp} ({@code [dim, experts]}: one row per expert) and the 3-D {@code ffn_gate_exps},
 * {@code ffn_up_exps} ({@code [dim, ffn, experts]}) and {@code ffn_down_exps} ({@code [ffn, dim, experts]}),
 * dimension 0 innermost as in ggml. Expert {@code e} of a 3-D tensor is its {@code e}-th 2-D matrix, stored whole
 * after the one before:
 *
 * <pre>
 *   byte 0                    E                        2E                      (E = bytes of one expert)
 *   | expert 0: rows 0..r-1   | expert 1: rows 0..r-1  | ...                   | expert n-1 |
 *     each row = cols / blockSize blocks of the tensor's type
 * </pre>
 *
 * so each expert becomes a {@link WeightTensor} over a slice of the mapping, without a copy, in any weight type:
 * a row holds whole blocks (the file's reader checked that {@code dims[0]} is a multiple of the block size), so
 * {@code E} is a whole number of rows and every slice starts on a row boundary of the block format.
 */
final class ExpertTensors {
    private ExpertTensors() {
    }

    static Experts read(GgufFile file, LlamaConfig c, String p) {
        int n = c.expertCount();
        String routerName = p + "ffn_gate_inp.weight";
        GgufTensorInfo routerInfo = file.tensor(routerName);
        WeightTensor router = WeightShapes.expect(
                WeightTensor.of(routerName, routerInfo.type(), file.bytes(routerInfo), routerInfo.rows(),
                        routerInfo.columns()), routerName, n, c.dim());
        return new Experts(router,
                slices(file, p + "ffn_gate_exps.weight", c.ffnDim(), c.dim(), n),
                slices(file, p + "ffn_up_exps.weight", c.ffnDim(), c.dim(), n),
                slices(file, p + "ffn_down_exps.weight", c.dim(), c.ffnDim(), n));
    }

    /** The {@code count} matrices of {@code rows x cols} of a 3-D tensor, each a view of its slice of the file. */
    private static WeightTensor[] slices(GgufFile file, String name, int rows, int cols, int count) {
        GgufTensorInfo info = file.tensor(name);
        long[] dims = info.dims();
        if (dims.length != 3 || dims[0] != cols || dims[1] != rows || dims[2] != count) {
            throw new ModelFormatException("tensor '" + name + "' has dimensions " + Arrays.toString(dims)
                    + ", expected [" + cols + ", " + rows + ", " + count + "] (columns, rows, experts) from the"
                    + " model's dimensions");
        }
        MemorySegment all = file.bytes(info);
        long expertBytes = info.type().bytesFor((long) rows * cols);
        WeightTensor[] out = new WeightTensor[count];
        for (int e = 0; e < count; e++) {
            out[e] = WeightTensor.of(name + "[" + e + "]", info.type(), all.asSlice(e * expertBytes, expertBytes),
                    rows, cols);
        }
        return out;
    }
}
