package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.continuum.IntegrationTest;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real responses, JSON and streamed, with and without log-probabilities and usage, conform to the schemas the
 * server publishes at /q/openapi: required fields present, no null where an object is promised.
 */
@QuarkusTest
@IntegrationTest
class ResponseSchemaTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COMPLETION = "\"prompt\": \"Once upon a time\", \"max_tokens\": 4";
    private static final String CHAT = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 4";

    private SchemaCheck schemas;

    @BeforeEach
    void ready() throws Exception {
        CompletionApiTest.awaitReady();
        schemas = new SchemaCheck(JSON.readTree(given().get("/q/openapi?format=json").then().statusCode(200)
                .extract().asString()));
    }

    private static String post(String path, String fields) {
        return given().contentType(ContentType.JSON).body("{" + fields + "}").post(path).then().statusCode(200)
                .extract().asString();
    }

    private void conforms(JsonNode value, String schema) {
        List<String> problems = schemas.problems(value, schema);
        assertTrue(problems.isEmpty(), schema + " " + value + ":\n" + String.join("\n", problems));
    }

    @Test
    void jsonBodiesMatchTheirSchemas() throws Exception {
        for (String extra : List.of("", ", \"logprobs\": 2", ", \"n\": 2, \"echo\": true")) {
            conforms(JSON.readTree(post("/v1/completions", COMPLETION + extra)), "CompletionResponse");
        }
        for (String extra : List.of("", ", \"logprobs\": true, \"top_logprobs\": 2", ", \"n\": 2")) {
            conforms(JSON.readTree(post("/v1/chat/completions", CHAT + extra)), "ChatCompletionResponse");
        }
        String error = given().contentType(ContentType.JSON).body("{\"prompt\": 3}").post("/v1/completions")
                .then().statusCode(400).extract().asString();
        conforms(JSON.readTree(error), "ErrorBody");
    }

    @Test
    void streamedChunksMatchTheirSchemas() throws Exception {
        for (String extra : List.of("", ", \"stream_options\": {\"include_usage\": true}",
                ", \"logprobs\": 1, \"stream_options\": {\"include_usage\": true}")) {
            List<JsonNode> events = Sse.events(post("/v1/completions", COMPLETION + ", \"stream\": true" + extra));
            assertTrue(events.size() >= 2, "chunks: " + events);
            events.forEach(e -> conforms(e, "CompletionChunk"));
            assertUsageOnlyAtTheEnd(events, !extra.isEmpty());
        }
        for (String extra : List.of("", ", \"stream_options\": {\"include_usage\": true}",
                ", \"logprobs\": true, \"stream_options\": {\"include_usage\": true}")) {
            List<JsonNode> events = Sse.events(post("/v1/chat/completions", CHAT + ", \"stream\": true" + extra));
            events.forEach(e -> conforms(e, "ChatCompletionChunk"));
            assertUsageOnlyAtTheEnd(events, !extra.isEmpty());
        }
    }

    /** With include_usage, as OpenAI: "usage": null on every chunk but the last, which has no choices. */
    private static void assertUsageOnlyAtTheEnd(List<JsonNode> events, boolean includeUsage) {
        for (int i = 0; i < events.size(); i++) {
            JsonNode e = events.get(i);
            boolean last = i == events.size() - 1;
            if (!includeUsage) {
                assertTrue(!e.has("usage"), "no usage field without include_usage: " + e);
            } else if (last) {
                assertTrue(e.get("usage").isObject(), "the last chunk carries usage: " + e);
                assertEquals(0, e.get("choices").size(), "the usage chunk has no choices: " + e);
            } else {
                assertTrue(e.get("usage").isNull(), "usage is null before the end: " + e);
            }
        }
    }
}
