package dev.continuum.api;

import dev.continuum.IntegrationTest;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

/** Every malformed or out-of-range request gets its status and an OpenAI-shaped error; the server keeps serving. */
@QuarkusTest
@IntegrationTest
class ErrorApiTest {
    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    private static void expect400(String path, String body, String param, String message) {
        given().contentType(ContentType.JSON).body(body).post(path)
                .then().statusCode(400)
                .contentType(ContentType.JSON)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.param", param == null ? nullValue() : equalTo(param))
                .body("error.message", containsString(message));
    }

    @Test
    void badRequestsAnswer400WithTheFieldNamed() {
        String c = "/v1/completions";
        expect400(c, "{\"prompt\": \"hi\", ", null, "malformed JSON");
        expect400(c, "", null, "empty");
        expect400(c, "[1, 2]", null, "JSON object");
        expect400(c, "{\"max_tokens\": 5}", "prompt", "required");
        expect400(c, "{\"prompt\": 42}", "prompt", "must be a string");
        expect400(c, "{\"prompt\": [\"a\", 3]}", "prompt", "must be a string");
        expect400(c, "{\"prompt\": [1, 99999]}", "prompt", "token ids");
        expect400(c, "{\"prompt\": \"hi\", \"max_tokens\": -1}", "max_tokens", "between");
        expect400(c, "{\"prompt\": \"hi\", \"max_tokens\": \"ten\"}", "max_tokens", "integer");
        expect400(c, "{\"prompt\": \"hi\", \"max_tokens\": 100000}", "max_tokens", "maximum context length");
        expect400(c, "{\"prompt\": \"hi\", \"temperature\": -0.5}", "temperature", "must be in");
        expect400(c, "{\"prompt\": \"hi\", \"temperature\": \"hot\"}", "temperature", "number");
        expect400(c, "{\"prompt\": \"hi\", \"top_p\": 0}", "top_p", "must be in");
        expect400(c, "{\"prompt\": \"hi\", \"top_p\": 1.5}", "top_p", "must be in");
        expect400(c, "{\"prompt\": \"hi\", \"n\": 0}", "n", "between");
        expect400(c, "{\"prompt\": \"hi\", \"n\": 1000}", "n", "between");
        expect400(c, "{\"prompt\": \"hi\", \"stop\": 5}", "stop", "string");
        expect400(c, "{\"prompt\": \"hi\", \"stop\": [\"\"]}", "stop", "empty");
        expect400(c, "{\"prompt\": \"hi\", \"logprobs\": 50}", "logprobs", "between");
        expect400(c, "{\"prompt\": \"hi\", \"stream\": \"yes\"}", "stream", "boolean");
        expect400(c, "{\"prompt\": \"hi\", \"stream_options\": {\"include_usage\": true}}", "stream_options", "stream");
        expect400(c, "{\"prompt\": \"" + "Once upon a time ".repeat(200) + "\"}", "prompt", "maximum context length");
        String chat = "/v1/chat/completions";
        expect400(chat, "{\"messages\": []}", "messages", "non-empty");
        expect400(chat, "{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", "messages", "role");
        expect400(chat, "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", "messages", "content");
        expect400("/tokenize", "{\"prompt\": 5}", "prompt", "string");
        expect400("/detokenize", "{\"tokens\": [\"a\"]}", "tokens", "token ids");
        expect400("/tokenize", "{oops", null, "malformed JSON");
    }

    @Test
    void unknownModelIs404() {
        given().contentType(ContentType.JSON).body(Map.of("model", "gpt-5", "prompt", "hi")).post("/v1/completions")
                .then().statusCode(404)
                .body("error.code", equalTo("model_not_found"))
                .body("error.param", equalTo("model"));
        given().contentType(ContentType.JSON).body(Map.of("model", "gpt-5", "messages",
                        java.util.List.of(Map.of("role", "user", "content", "hi")))).post("/v1/chat/completions")
                .then().statusCode(404);
    }

    @Test
    void serverKeepsServingAfterErrors() {
        badRequestsAnswer400WithTheFieldNamed();
        given().contentType(ContentType.JSON).body(Map.of("prompt", "Once upon a time", "max_tokens", 8,
                        "temperature", 0)).post("/v1/completions")
                .then().statusCode(200).body("choices[0].finish_reason", equalTo("length"));
    }
}
