package dev.continuum.tokenizer;
public final class StreamingDecoder { final Tokenizer t; public StreamingDecoder(Tokenizer t) { this.t = t; }
  public String push(int id) { return new String(t.tokenBytes(id), java.nio.charset.StandardCharsets.UTF_8); } public String flush() { return ""; } }
