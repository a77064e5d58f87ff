package dev.continuum.cuda;

import dev.continuum.runner.StepBatch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The per-sequence kernel choice: more than eight rows of one sequence take the GEMM, the rest the GEMV. */
class RowSegmentsTest {
    private static StepBatch batch(int... rowsPerSlot) {
        int total = 0;
        for (int r : rowsPerSlot) {
            total += r;
        }
        StepBatch b = new StepBatch(total, 1, new int[rowsPerSlot.length][4], 16);
        for (int s = 0; s < rowsPerSlot.length; s++) {
            for (int i = 0; i < rowsPerSlot[s]; i++) {
                b.addRow(1, i, s);
            }
        }
        return b;
    }

    private static String plan(int... rowsPerSlot) {
        RowSegments seg = new RowSegments(64);
        seg.plan(batch(rowsPerSlot));
        StringBuilder sb = new StringBuilder();
        for (int s = 0; s < seg.size(); s++) {
            sb.append(seg.gemm(s) ? "gemm" : "gemv").append('[').append(seg.start(s)).append(',')
                    .append(seg.start(s) + seg.count(s)).append(") ");
        }
        return sb.toString().trim();
    }

    @Test
    void decodesShareOneGemvSegmentAndChunksTakeTheGemm() {
        assertEquals("gemv[0,3)", plan(1, 1, 1));
        assertEquals("gemv[0,3) gemm[3,23)", plan(1, 1, 1, 20));
        assertEquals("gemv[0,8) gemm[8,17)", plan(8, 9));
        assertEquals("gemm[0,9) gemv[9,10) gemm[10,22)", plan(9, 1, 12));
        assertEquals("gemm[0,30)", plan(10, 20));
    }

    @Test
    void theClassifierAlwaysTakesTheGemv() {
        RowSegments seg = new RowSegments(64);
        seg.gemvOnly(17);
        assertEquals(1, seg.size());
        assertEquals(17, seg.count(0));
        assertEquals(false, seg.gemm(0));
        seg.gemvOnly(0);
        assertEquals(0, seg.size());
    }
}
