package dev.continuum.tokenizer;
public final class ByteLevelTokenizer implements Tokenizer {
  final int v; public ByteLevelTokenizer(int v) { this.v = v; }
  public int vocabSize() { return v; } public int bosId() { return 1; } public int eosId() { return 2; } public boolean addBos() { return true; }
  public int[] encode(String t, boolean p) { byte[] b = t.getBytes(java.nio.charset.StandardCharsets.UTF_8); int[] r = new int[b.length]; for (int i = 0; i < b.length; i++) r[i] = 3 + (b[i] & 255); return r; }
  public byte[] tokenBytes(int id) { return id < 3 ? new byte[0] : id < 259 ? new byte[]{(byte) (id - 3)} : new byte[]{(byte) (32 + (id - 259) % 95)}; }
  public String piece(int id) { return "" + id; } public boolean isControl(int id) { return id < 3; }
}
