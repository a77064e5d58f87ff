package dev.continuum.chat;

/** One turn of an OpenAI-style conversation: a role ("system", "user", "assistant", ...) and its text. */
public record ChatMessage(String role, String content) {}
