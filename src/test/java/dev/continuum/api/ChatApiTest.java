package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.continuum.IntegrationTest;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /v1/chat/completions renders the messages through the template and answers in chat's shape. */
@QuarkusTest
@IntegrationTest
class ChatApiTest {
    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    private static final List<Map<String, String>> MESSAGES = List.of(
            Map.of("role", "system", "content", "You tell stories."),
            Map.of("role", "user", "content", "Tell me about a dog."));

    @Test
    void chatCompletionEqualsACompletionOfTheRenderedPrompt() throws Exception {
        Response chat = given().contentType(ContentType.JSON)
                .body(Map.of("messages", MESSAGES, "max_tokens", 25, "temperature", 0)).post("/v1/chat/completions");
        chat.then().statusCode(200)
                .body("object", equalTo("chat.completion"))
                .body("id", startsWith("chatcmpl-"))
                .body("choices[0].message.role", equalTo("assistant"))
                .body("choices[0].finish_reason", equalTo("length"))
                .body("usage.completion_tokens", equalTo(25));
        // stories260K has no chat template: the documented fallback renders "role: content" lines.
        String rendered = "system: You tell stories.\nuser: Tell me about a dog.\nassistant:";
        Response plain = given().contentType(ContentType.JSON)
                .body(Map.of("prompt", rendered, "max_tokens", 25, "temperature", 0)).post("/v1/completions");
        assertEquals(plain.path("choices[0].text").toString(), chat.path("choices[0].message.content").toString());
        assertEquals((int) plain.path("usage.prompt_tokens"), (int) chat.path("usage.prompt_tokens"));
    }

    @Test
    void streamedChatSendsDeltas() throws Exception {
        Response r = given().contentType(ContentType.JSON)
                .body(Map.of("messages", MESSAGES, "max_tokens", 25, "temperature", 0, "stream", true))
                .post("/v1/chat/completions");
        r.then().statusCode(200).contentType(startsWith("text/event-stream"));
        List<JsonNode> events = Sse.events(r.asString());
        JsonNode first = events.get(0).get("choices").get(0);
        assertEquals("chat.completion.chunk", events.get(0).get("object").asText());
        assertEquals("assistant", first.get("delta").get("role").asText(), "the first delta carries the role");
        JsonNode last = events.get(events.size() - 1).get("choices").get(0);
        assertEquals("length", last.get("finish_reason").asText());
        String text = Sse.text(events, 0, true);
        Response whole = given().contentType(ContentType.JSON)
                .body(Map.of("messages", MESSAGES, "max_tokens", 25, "temperature", 0)).post("/v1/chat/completions");
        assertEquals(whole.path("choices[0].message.content").toString(), text);
        assertTrue(events.size() > 10);
    }
}
