package dev.continuum.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One concurrency level's figures. {@code prefillTokS}: prompt tokens over the time until every request had its
 * first token. {@code decodeTokS}: tokens produced while all requests were decoding (after the last first token)
 * over that span: the aggregate steady-state decode rate. {@code draftTokens} / {@code acceptedTokens}: proposals
 * verified and accepted when the engine speculated, -1 when it did not.
 */
public record BenchResult(String mode, int concurrency, int requests, int promptTokens, int genTokens,
                          double prefillTokS, double decodeTokS, double ttftP50, double ttftP99, double itlP50,
                          double itlP99, double wallSeconds, long draftTokens, long acceptedTokens) {

    /** The same figures with the speculation counts of the run. */
    BenchResult withSpeculation(long drafts, long accepted) {
        return new BenchResult(mode, concurrency, requests, promptTokens, genTokens, prefillTokS, decodeTokS, ttftP50,
                ttftP99, itlP50, itlP99, wallSeconds, drafts, accepted);
    }

    static BenchResult of(String mode, int concurrency, int promptTokens, int genTokens, List<RequestTrace> traces,
                          long start, long end) {
        long lastFirst = 0;
        long[] ttft = new long[traces.size()];
        int gaps = 0;
        for (RequestTrace t : traces) {
            gaps += Math.max(0, t.tokens - 1);
        }
        long[] itl = new long[gaps];
        int g = 0;
        long steadyTokens = 0;
        for (int i = 0; i < traces.size(); i++) {
            RequestTrace t = traces.get(i);
            if (t.tokens == 0) {
                continue;
            }
            ttft[i] = t.tokenTimes[0] - t.submitted;
            lastFirst = Math.max(lastFirst, t.tokenTimes[0]);
            for (int k = 1; k < t.tokens; k++) {
                itl[g++] = t.tokenTimes[k] - t.tokenTimes[k - 1];
            }
        }
        for (RequestTrace t : traces) {
            for (int k = 0; k < t.tokens; k++) {
                if (t.tokenTimes[k] > lastFirst) {
                    steadyTokens++;
                }
            }
        }
        double prefill = traces.size() * (double) promptTokens / ((lastFirst - start) / 1e9);
        double decode = end > lastFirst ? steadyTokens / ((end - lastFirst) / 1e9) : 0;
        return new BenchResult(mode, concurrency, traces.size(), promptTokens, genTokens, prefill, decode,
                percentileMs(ttft, 50), percentileMs(ttft, 99), percentileMs(itl, 50), percentileMs(itl, 99),
                (end - start) / 1e9, -1, -1);
    }

    private static double percentileMs(long[] nanos, double p) {
        if (nanos.length == 0) {
            return 0;
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))] / 1e6;
    }

    public String toJson() {
        String speculation = draftTokens < 0 ? "" : String.format(Locale.ROOT,
                ",\"spec_draft_tokens\":%d,\"spec_accepted_tokens\":%d,\"spec_acceptance\":%.3f", draftTokens,
                acceptedTokens, draftTokens == 0 ? 0.0 : acceptedTokens / (double) draftTokens);
        return String.format(Locale.ROOT, "{\"mode\":\"%s\",\"concurrency\":%d,\"requests\":%d,\"prompt_tokens\":%d,"
                        + "\"gen_tokens\":%d,\"prefill_tok_s\":%.1f,\"decode_tok_s\":%.1f,\"ttft_ms_p50\":%.1f,"
                        + "\"ttft_ms_p99\":%.1f,\"itl_ms_p50\":%.2f,\"itl_ms_p99\":%.2f,\"wall_s\":%.2f%s}",
                mode, concurrency, requests, promptTokens, genTokens, prefillTokS, decodeTokS, ttftP50, ttftP99,
                itlP50, itlP99, wallSeconds, speculation);
    }
}
