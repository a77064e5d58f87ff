package dev.continuum.bench;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Drives a running server over HTTP with {@code concurrency} streaming clients, timing every SSE event. */
public final class HttpBench {
    private final URI completions;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    public HttpBench(String baseUrl) {
        this.completions = URI.create(baseUrl.replaceAll("/+$", "") + "/v1/completions");
    }

    public BenchResult run(int concurrency, int[][] prompts, int genTokens) throws Exception {
        List<RequestTrace> traces = new ArrayList<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < concurrency; i++) {
                RequestTrace trace = new RequestTrace(genTokens);
                traces.add(trace);
                int[] prompt = prompts[i % prompts.length];
                futures.add(clients.submit(() -> {
                    stream(prompt, genTokens, trace, start);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            long end = System.nanoTime() - start;
            return BenchResult.of("http", concurrency, prompts[0].length, genTokens, traces, 0, end);
        }
    }

    private void stream(int[] prompt, int genTokens, RequestTrace trace, long start) throws Exception {
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < prompt.length; i++) {
            ids.append(i == 0 ? "" : ",").append(prompt[i]);
        }
        // logprobs 0 makes the server send one event per token, even while UTF-8 bytes are held back.
        String body = "{\"prompt\":[" + ids + "],\"max_tokens\":" + genTokens
                + ",\"temperature\":0,\"ignore_eos\":true,\"stream\":true,\"logprobs\":0}";
        trace.submitted = System.nanoTime() - start;
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(completions)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            if (r.statusCode() != 200) {
                throw new IllegalStateException("server answered " + r.statusCode() + ": " + in.readLine());
            }
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("data: {") && !line.contains("\"finish_reason\":\"")) {
                    trace.token(System.nanoTime() - start);
                }
            }
        }
    }
}
