package dev.continuum.server;

import dev.continuum.ChildJvm;
import dev.continuum.IntegrationTest;
import dev.continuum.cli.ContinuumMain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM drains: a real server in a child JVM, streams in flight, then {@link Process#destroy()} (SIGTERM).
 * Readiness turns 503 at once, new requests get 503 with Retry-After, the streams run to their end with
 * {@code [DONE]} (or, past the grace, end with an error event and {@code [DONE]}), and the JVM exits 0.
 */
@IntegrationTest
class GracefulShutdownTest {
    /** Random weights, no download; slow enough on the CPU that a few hundred tokens outlast the SIGTERM. */
    private static final String MODEL = "dummy:15m";
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Process server;
    private Path log;
    private int port;

    @AfterEach
    void stop() throws IOException {
        if (server != null && server.isAlive()) {
            server.destroyForcibly();
        }
        if (log != null) {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void streamsInFlightFinishAndTheServerExitsZero() throws Exception {
        start("120s");
        List<Stream> streams = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            streams.add(stream(200));
        }
        for (Stream s : streams) {
            assertTrue(s.firstEvent.await(60, TimeUnit.SECONDS), "stream started");
        }
        server.destroy();

        await().atMost(Duration.ofSeconds(10)).until(() -> status("/health/ready") == 503);
        HttpResponse<String> ready = get("/health/ready");
        assertTrue(ready.body().contains("draining"), ready.body());
        assertEquals(503, get("/health").statusCode(), "/health is readiness too");
        assertEquals(200, get("/health/live").statusCode(), "alive while draining");
        HttpResponse<String> refused = completion(false, 4);
        assertEquals(503, refused.statusCode(), refused.body());
        assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
        assertTrue(refused.body().contains("\"code\":\"server_shutting_down\""), refused.body());
        assertTrue(server.isAlive(), "still serving the streams when the new request was refused");

        for (Stream s : streams) {
            List<String> events = s.events.get(120, TimeUnit.SECONDS);
            assertEquals("[DONE]", events.getLast(), "ends with [DONE]");
            assertTrue(events.get(events.size() - 2).contains("\"finish_reason\":\"length\""),
                    "ran to max_tokens: " + events.get(events.size() - 2));
            assertTrue(events.stream().noneMatch(e -> e.contains("\"error\"")), "no error event");
        }
        assertTrue(server.waitFor(60, TimeUnit.SECONDS), "exits after the drain");
        assertEquals(0, server.exitValue(), this::output);
    }

    @Test
    void streamsStillRunningWhenTheGraceEndsGetAnErrorAndDone() throws Exception {
        start("2s");
        Stream s = stream(1800);
        assertTrue(s.firstEvent.await(60, TimeUnit.SECONDS), "stream started");
        long sigterm = System.nanoTime();
        server.destroy();

        List<String> events = s.events.get(60, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - sigterm) / 1e9;
        assertEquals("[DONE]", events.getLast(), "ends with [DONE]");
        String last = events.get(events.size() - 2);
        assertTrue(last.contains("\"error\"") && last.contains("shutdown grace"), "an error event last: " + last);
        assertTrue(seconds >= 1.5, "not cut before the grace: " + seconds + " s");
        assertTrue(server.waitFor(60, TimeUnit.SECONDS), "exits after the grace");
        assertEquals(0, server.exitValue(), this::output);
    }

    private void start(String grace) throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        log = Files.createTempFile("continuum-drain", ".log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add(ChildJvm.SERVER_OPTIONS);
        command.add("-Dcontinuum.shutdown-grace=" + grace);
        command.add("-Dcontinuum.warmup-tokens=0");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ContinuumMain.class.getName());
        command.addAll(List.of("serve", "--port", Integer.toString(port), "--model", MODEL));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().remove("JDK_JAVA_OPTIONS");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        server = builder.start();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                .until(() -> !server.isAlive() || status("/health/ready") == 200);
        assertTrue(server.isAlive(), this::output);
    }

    /** One SSE stream read on its own thread: its data events, and a latch on the first. */
    private record Stream(CountDownLatch firstEvent, CompletableFuture<List<String>> events) {
    }

    private Stream stream(int maxTokens) {
        CountDownLatch first = new CountDownLatch(1);
        CompletableFuture<List<String>> events = CompletableFuture.supplyAsync(() -> {
            try {
                HttpResponse<java.io.InputStream> r = http.send(request(true, maxTokens),
                        HttpResponse.BodyHandlers.ofInputStream());
                List<String> data = new ArrayList<>();
                try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        if (line.startsWith("data: ")) {
                            data.add(line.substring(6));
                            first.countDown();
                        }
                    }
                }
                return data;
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        return new Stream(first, events);
    }

    private HttpRequest request(boolean stream, int maxTokens) {
        String body = "{\"prompt\":\"Once upon a time\",\"max_tokens\":" + maxTokens
                + ",\"ignore_eos\":true,\"stream\":" + stream + "}";
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private HttpResponse<String> completion(boolean stream, int maxTokens) throws IOException, InterruptedException {
        return http.send(request(stream, maxTokens), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private int status(String path) {
        try {
            return get(path).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private String output() {
        try {
            return "server output:\n" + Files.readString(log);
        } catch (IOException e) {
            return "server output unreadable: " + e;
        }
    }
}
