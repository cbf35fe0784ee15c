// Package tgtest is a local HTTP server speaking the subset of the Telegram Bot
// API the alerts use (sendMessage, getUpdates with long polling,
// answerCallbackQuery, getMe), for tests: nothing leaves the machine.
package tgtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// BotUsername is the bot's username as getMe answers it.
const BotUsername = "saqshy_test_bot"

// Sent is a message the bot sent.
type Sent struct {
	ChatID   string
	Text     string
	Callback string // the inline button's callback data, "" without a button
}

// Server is a fake Bot API for one token.
type Server struct {
	*httptest.Server
	Token string

	mu       sync.Mutex
	sent     []Sent
	updates  []json.RawMessage // queued, update_id = index+1
	answered []string
	down     bool
	nextID   int64
	wake     chan struct{}
}

// Start starts a server on loopback; it stops at the end of the test.
func Start(tb testing.TB, token string) *Server {
	s := &Server{Token: token, wake: make(chan struct{}, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// SetDown makes every call fail with 502 (a network outage) while down.
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// Sent returns the messages sent so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Answered returns the callback query ids answered.
func (s *Server) Answered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.answered...)
}

// Press queues a press of an inline button with data in chat, by a user.
func (s *Server) Press(chatID int64, data, firstName, username string) {
	s.mu.Lock()
	id := int64(len(s.updates) + 1)
	u, _ := json.Marshal(map[string]any{"update_id": id, "callback_query": map[string]any{
		"id": "cq" + strings.Repeat("x", int(id%3)) + string(rune('0'+id%10)), "data": data,
		"from":    map[string]any{"id": 42, "is_bot": false, "first_name": firstName, "username": username},
		"message": map[string]any{"message_id": 7, "date": 1700000000, "chat": map[string]any{"id": chatID, "type": "private"}},
	}})
	s.updates = append(s.updates, u)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot"+s.Token+"/")
	if !ok {
		reply(w, 401, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil && !errors.Is(err, io.EOF) { // a body is optional
		reply(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + err.Error()})
		return
	}
	switch rest {
	case "sendMessage":
		chat, _ := req["chat_id"].(string)
		text, _ := req["text"].(string)
		if chat == "" || text == "" {
			reply(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: chat_id and text required"})
			return
		}
		m := Sent{ChatID: chat, Text: text}
		if rm, ok := req["reply_markup"].(map[string]any); ok {
			if kb, ok := rm["inline_keyboard"].([]any); ok && len(kb) > 0 {
				if row, ok := kb[0].([]any); ok && len(row) > 0 {
					if b, ok := row[0].(map[string]any); ok {
						m.Callback, _ = b["callback_data"].(string)
					}
				}
			}
		}
		s.mu.Lock()
		s.nextID++
		s.sent = append(s.sent, m)
		id := s.nextID
		s.mu.Unlock()
		reply(w, 200, map[string]any{"ok": true, "result": map[string]any{"message_id": id, "date": time.Now().Unix()}})
	case "getUpdates":
		off, _ := req["offset"].(float64)
		timeout, _ := req["timeout"].(float64)
		deadline := time.After(time.Duration(timeout * float64(time.Second)))
		for {
			s.mu.Lock()
			var out []json.RawMessage
			for i := max(int(off)-1, 0); i < len(s.updates); i++ {
				out = append(out, s.updates[i])
			}
			s.mu.Unlock()
			if len(out) > 0 || timeout == 0 {
				reply(w, 200, map[string]any{"ok": true, "result": out})
				return
			}
			select {
			case <-s.wake:
			case <-deadline:
				reply(w, 200, map[string]any{"ok": true, "result": []any{}})
				return
			case <-r.Context().Done():
				return
			}
		}
	case "getMe":
		reply(w, 200, map[string]any{"ok": true, "result": map[string]any{
			"id": 9, "is_bot": true, "first_name": "Saqshy", "username": BotUsername}})
	case "answerCallbackQuery":
		id, _ := req["callback_query_id"].(string)
		s.mu.Lock()
		s.answered = append(s.answered, id)
		s.mu.Unlock()
		reply(w, 200, map[string]any{"ok": true, "result": true})
	default:
		reply(w, 404, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
	}
}
