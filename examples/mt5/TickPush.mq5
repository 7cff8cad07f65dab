//+------------------------------------------------------------------+
//| TickPush.mq5 — pushes the terminal's ticks to tick-engine's push  |
//| endpoint (POST /v1/ticks, NDJSON), in batches, with retries that  |
//| reuse the batch's Idempotency-Key. Setup: examples/mt5/README.md. |
//+------------------------------------------------------------------+
#property copyright "tick-engine example"
#property version   "1.00"
#property description "Pushes every tick (CopyTicks since the last one sent) to tick-engine's push endpoint."
#property description "Allow the endpoint's URL in Tools > Options > Expert Advisors > Allow WebRequest for listed URL."

input string PushUrl    = "http://127.0.0.1:8089/v1/ticks"; // push endpoint (its scheme://host:port must be allowed)
input string ApiKey     = "";                               // API key of TE_PUSH_KEYS_FILE
input string Venue      = "MT5-MYBROKER";                   // venue name on every record (the key must allow it)
input string Symbols    = "";                               // comma-separated; empty = this chart's symbol
input int    BatchMax   = 2000;                             // most ticks per batch
input int    FlushMs    = 250;                              // how often to collect and send
input int    TimeoutMs  = 15000;                            // WebRequest timeout (above the server's TE_PUSH_ACK_TIMEOUT_MS)

// TICK_FLAG_BID 2 | ASK 4 | LAST 8 | VOLUME 16: a tick with none of them changed nothing worth sending.
#define CHANGE_FLAGS (TICK_FLAG_BID | TICK_FLAG_ASK | TICK_FLAG_LAST | TICK_FLAG_VOLUME)
#define MAX_SEQ 999

// Where each symbol stands: the time_msc of the last tick handled, and how many ticks of that millisecond were
// handled (CopyTicks from that millisecond returns them again: they are skipped, and the rest keep their seq).
string g_symbols[];
long   g_lastMsc[];
int    g_doneAtLast[];

// The batch being sent: its body, its key, and where each symbol will stand once it is accepted. A batch is
// sent again, unchanged and with the same key, until the server answers it — so nothing is lost or doubled.
string g_body = "";
string g_key = "";
int    g_records = 0;
long   g_nextMsc[];
int    g_nextDone[];
ulong  g_retryAt = 0;      // GetTickCount64() before which no retry is made
int    g_rotate = 0;       // which symbol a batch starts with (so a busy one cannot starve the others)
int    g_failures = 0;

string StateName(const string sym, const string what) { return "TickPush." + Venue + "." + sym + "." + what; }

//+------------------------------------------------------------------+
int OnInit()
  {
   if(MQLInfoInteger(MQL_TESTER))
     {
      Print("TickPush: WebRequest is not available in the Strategy Tester");
      return INIT_FAILED;
     }
   if(ApiKey == "")
     {
      Print("TickPush: set ApiKey (an API key of the push endpoint's TE_PUSH_KEYS_FILE)");
      return INIT_PARAMETERS_INCORRECT;
     }
   string list = Symbols == "" ? _Symbol : Symbols;
   int n = StringSplit(list, ',', g_symbols);
   ArrayResize(g_lastMsc, n);
   ArrayResize(g_doneAtLast, n);
   ArrayResize(g_nextMsc, n);
   ArrayResize(g_nextDone, n);
   for(int i = 0; i < n; i++)
     {
      StringTrimLeft(g_symbols[i]);
      StringTrimRight(g_symbols[i]);
      if(!SymbolSelect(g_symbols[i], true))
        {
         PrintFormat("TickPush: unknown symbol %s", g_symbols[i]);
         return INIT_PARAMETERS_INCORRECT;
        }
      // Resume where the last run stopped (terminal global variables survive restarts); the first run starts
      // at the symbol's last tick.
      if(GlobalVariableCheck(StateName(g_symbols[i], "msc")))
        {
         g_lastMsc[i] = (long)GlobalVariableGet(StateName(g_symbols[i], "msc"));
         g_doneAtLast[i] = (int)GlobalVariableGet(StateName(g_symbols[i], "done"));
        }
      else
        {
         g_lastMsc[i] = (long)SymbolInfoInteger(g_symbols[i], SYMBOL_TIME_MSC);
         g_doneAtLast[i] = 0;
        }
      g_nextMsc[i] = g_lastMsc[i];
      g_nextDone[i] = g_doneAtLast[i];
     }
   MathSrand((uint)GetTickCount());
   EventSetMillisecondTimer(FlushMs);
   PrintFormat("TickPush: pushing %s to %s as venue %s", list, PushUrl, Venue);
   return INIT_SUCCEEDED;
  }

void OnDeinit(const int reason) { EventKillTimer(); }
void OnTick()  { Pump(); }
void OnTimer() { Pump(); }

//+------------------------------------------------------------------+
//| Send the pending batch again, or collect and send a new one.      |
//+------------------------------------------------------------------+
void Pump()
  {
   if(g_body == "" && !Collect())
      return;
   if(GetTickCount64() < g_retryAt)
      return;
   Send();
  }

// The trade server's offset from UTC, seconds, to the quarter hour: time_msc is the server's wall clock.
int UtcOffset() { return (int)(MathRound((double)(TimeTradeServer() - TimeGMT()) / 900.0) * 900); }

string Num(const double v, const int digits) { return DoubleToString(v, digits); }

//+------------------------------------------------------------------+
//| Build a batch from every symbol's ticks since the last handled.  |
//+------------------------------------------------------------------+
bool Collect()
  {
   int offset = UtcOffset();
   string body = "";
   int records = 0;
   int count = ArraySize(g_symbols);
   for(int s = 0; s < count; s++)
     {
      g_nextMsc[s] = g_lastMsc[s];
      g_nextDone[s] = g_doneAtLast[s];
     }
   g_rotate = (g_rotate + 1) % count;
   for(int k = 0; k < count && records < BatchMax; k++)
     {
      int s = (g_rotate + k) % count;
      string sym = g_symbols[s];
      MqlTick ticks[];
      int n = CopyTicks(sym, ticks, COPY_TICKS_ALL, (ulong)g_lastMsc[s], (uint)(BatchMax - records + g_doneAtLast[s]));
      if(n <= 0)
         continue;
      int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
      long msc = -1;
      int seq = 0;
      for(int i = 0; i < n; i++)
        {
         // seq: the tick's position among this symbol's ticks of the same millisecond, as CopyTicks orders them.
         if(ticks[i].time_msc != msc) { msc = ticks[i].time_msc; seq = 0; }
         else seq++;
         g_nextMsc[s] = msc;
         g_nextDone[s] = seq + 1;
         if(msc == g_lastMsc[s] && seq < g_doneAtLast[s])
            continue;                        // handled in an earlier batch
         if((ticks[i].flags & CHANGE_FLAGS) == 0 || seq > MAX_SEQ)
            continue;                        // nothing changed (or a millisecond with over 1000 ticks)
         body += StringFormat("{\"type\":\"mt5\",\"venue\":\"%s\",\"symbol\":\"%s\",\"time_msc\":%I64d,\"bid\":%s,\"ask\":%s,\"last\":%s,"
                              "\"volume\":%I64u,\"volume_real\":%s,\"flags\":%u,\"seq\":%d,\"utc_offset_s\":%d}\n",
                              Venue, sym, msc, Num(ticks[i].bid, digits), Num(ticks[i].ask, digits), Num(ticks[i].last, digits),
                              ticks[i].volume, Num(ticks[i].volume_real, 8), ticks[i].flags, seq, offset);
         records++;
        }
     }
   bool moved = false;
   for(int s = 0; s < ArraySize(g_symbols); s++)
      if(g_nextMsc[s] != g_lastMsc[s] || g_nextDone[s] != g_doneAtLast[s])
         moved = true;
   if(records == 0)
     {
      // Only ticks that changed nothing: step past them without a request.
      if(moved)
         Commit();
      return false;
     }
   g_body = body;
   g_records = records;
   // One key per batch, kept for all its retries: the server answers a retry with the first answer.
   g_key = StringFormat("%s-%I64d-%I64d-%I64u-%d", Venue, ChartID(), (long)TimeGMT(), GetTickCount64(), MathRand());
   return true;
  }

// The pending batch was answered: the symbols stand past it now (saved for the next run).
void Commit()
  {
   for(int s = 0; s < ArraySize(g_symbols); s++)
     {
      g_lastMsc[s] = g_nextMsc[s];
      g_doneAtLast[s] = g_nextDone[s];
      GlobalVariableSet(StateName(g_symbols[s], "msc"), (double)g_lastMsc[s]);
      GlobalVariableSet(StateName(g_symbols[s], "done"), g_doneAtLast[s]);
     }
   g_body = "";
   g_key = "";
   g_records = 0;
   g_failures = 0;
   g_retryAt = 0;
  }

// Wait before the next attempt: 1 s, 2 s, 4 s … up to 30 s.
void Backoff()
  {
   g_failures++;
   g_retryAt = GetTickCount64() + (ulong)MathMin(30000, 1000 * (int)MathPow(2, MathMin(g_failures - 1, 5)));
  }

//+------------------------------------------------------------------+
void Send()
  {
   char data[];
   int len = StringToCharArray(g_body, data, 0, WHOLE_ARRAY, CP_UTF8);
   ArrayResize(data, MathMax(0, len - 1)); // without the terminating zero
   string headers = "Content-Type: application/x-ndjson\r\nX-API-Key: " + ApiKey + "\r\nIdempotency-Key: " + g_key + "\r\n";
   char result[];
   string resultHeaders;
   ResetLastError();
   int status = WebRequest("POST", PushUrl, headers, TimeoutMs, data, result, resultHeaders);
   string answer = CharArrayToString(result, 0, WHOLE_ARRAY, CP_UTF8);
   if(status == -1)
     {
      int err = GetLastError();
      if(err == 4014 || err == 4060)
         PrintFormat("TickPush: WebRequest to %s is not allowed: add it in Tools > Options > Expert Advisors > Allow WebRequest for listed URL", PushUrl);
      else
         PrintFormat("TickPush: WebRequest failed (error %d); the batch is sent again", err);
      Backoff();
      return;
     }
   if(status == 200 || status == 207)
     {
      if(status == 207)
         PrintFormat("TickPush: some records were rejected (kept on the server's dead-letter topic): %s", StringSubstr(answer, 0, 600));
      Commit();
      return;
     }
   if(status == 429 || status >= 500)
     {
      // Busy, or the broker did not acknowledge in time: the same batch, the same key, a little later.
      PrintFormat("TickPush: HTTP %d, the batch is sent again: %s", status, StringSubstr(answer, 0, 300));
      Backoff();
      return;
     }
   if(status == 401 || status == 403)
     {
      // A key or its venues and symbols must be fixed on one side; the batch waits for that.
      PrintFormat("TickPush: HTTP %d, the key is refused: %s", status, answer);
      g_failures = 5;
      Backoff();
      return;
     }
   // 400, 413, 415, 422: this batch can never be taken as it is. Say so loudly and go past it.
   PrintFormat("TickPush: HTTP %d, batch of %d records dropped: %s", status, g_records, answer);
   Commit();
  }
//+------------------------------------------------------------------+
