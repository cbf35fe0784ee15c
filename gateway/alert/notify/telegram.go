package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/saqshy/saqshy/gateway/alert/outbox"
)

// DefaultTelegramURL is the Bot API's base URL.
const DefaultTelegramURL = "https://api.telegram.org"

// ackPrefix starts the callback data of the acknowledge button: "ack:<alert id>".
const ackPrefix = "ack:"

// Telegram talks to the Bot API.
type Telegram struct {
	BaseURL string // default DefaultTelegramURL
	Token   string
	// TokenFunc, when set, is asked for the token at every call (read from its
	// file late, so that a missing file delays messages instead of stopping the
	// gateway).
	TokenFunc func() (string, error)
	Client    *http.Client // default: 70 s timeout (long polls take up to PollTimeout)
	// PollTimeout is getUpdates' long-poll timeout (default 50 s).
	PollTimeout time.Duration
	Logger      *slog.Logger
}

// APIError is an answer of the Bot API with ok=false.
type APIError struct {
	Method     string
	Code       int
	Desc       string
	RetryAfter int // seconds, on 429
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("telegram %s: %d %s", e.Method, e.Code, e.Desc)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %d s)", e.RetryAfter)
	}
	return s
}

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func (t *Telegram) call(ctx context.Context, method string, body any) (json.RawMessage, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("telegram %s: %w", method, err)
	}
	base := t.BaseURL
	if base == "" {
		base = DefaultTelegramURL
	}
	token := t.Token
	if t.TokenFunc != nil {
		if token, err = t.TokenFunc(); err != nil {
			return nil, fmt.Errorf("telegram %s: bot token: %w", method, err)
		}
	}
	url := strings.TrimRight(base, "/") + "/bot" + token + "/" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("telegram %s: bad base url", method) // the URL holds the token: never print it
	}
	req.Header.Set("Content-Type", "application/json")
	c := t.Client
	if c == nil {
		c = &http.Client{Timeout: 70 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap() // *url.Error prints the URL, which holds the token
		}
		return nil, fmt.Errorf("telegram %s: %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("telegram %s: reading the answer: %w", method, err)
	}
	var r apiResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("telegram %s: %s: answer is not Bot API JSON: %w", method, resp.Status, err)
	}
	if !r.OK {
		return nil, &APIError{Method: method, Code: r.ErrorCode, Desc: r.Description, RetryAfter: r.Parameters.RetryAfter}
	}
	return r.Result, nil
}

// GetMe asks the Bot API who the bot is and returns its username (doctor).
func (t *Telegram) GetMe(ctx context.Context) (string, error) {
	res, err := t.call(ctx, "getMe", struct{}{})
	if err != nil {
		return "", err
	}
	var me struct {
		Username string `json:"username"`
		IsBot    bool   `json:"is_bot"`
	}
	if err := json.Unmarshal(res, &me); err != nil {
		return "", fmt.Errorf("telegram getMe: %w", err)
	}
	if !me.IsBot {
		return "", errors.New("telegram getMe: the token is not a bot's")
	}
	return me.Username, nil
}

// Send implements outbox.Sender: sendMessage to chat n.To, with an inline
// acknowledge button when n.Button is set.
func (t *Telegram) Send(ctx context.Context, n *outbox.Notification) error {
	msg := map[string]any{"chat_id": n.To, "text": n.Text, "disable_web_page_preview": true}
	if n.Button != "" {
		msg["reply_markup"] = map[string]any{"inline_keyboard": [][]map[string]string{
			{{"text": n.Button, "callback_data": ackPrefix + n.AlertID}},
		}}
	}
	_, err := t.call(ctx, "sendMessage", msg)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Code == 400 || ae.Code == 403) {
		// chat not found, bot blocked, a bad message: retrying cannot help
		return outbox.Permanent(err)
	}
	return err
}

// Ack is a press of an acknowledge button.
type Ack struct {
	AlertID    string
	By         string // the user's name as Telegram shows it
	ChatID     string // the chat the message was in
	CallbackID string // to answer the callback query
}

// Update parsing: the subset of the Bot API's Update used here.
type update struct {
	UpdateID      int64 `json:"update_id"`
	CallbackQuery *struct {
		ID   string `json:"id"`
		From struct {
			ID        int64  `json:"id"`
			FirstName string `json:"first_name"`
			LastName  string `json:"last_name"`
			Username  string `json:"username"`
		} `json:"from"`
		Message *struct {
			Chat struct {
				ID       int64  `json:"id"`
				Username string `json:"username"`
			} `json:"chat"`
		} `json:"message"`
		Data string `json:"data"`
	} `json:"callback_query"`
}

// ParseUpdates reads the result of getUpdates: the acknowledge presses it holds,
// and the offset to ask for next (the highest update_id + 1, or 0 when there are
// no updates). Updates other than our callback queries are skipped.
func ParseUpdates(result []byte) ([]Ack, int64, error) {
	var ups []update
	if err := json.Unmarshal(result, &ups); err != nil {
		return nil, 0, fmt.Errorf("telegram getUpdates: %w", err)
	}
	var acks []Ack
	var next int64
	for _, u := range ups {
		if u.UpdateID < 0 {
			return nil, 0, fmt.Errorf("telegram getUpdates: negative update_id %d", u.UpdateID)
		}
		next = max(next, u.UpdateID+1)
		cq := u.CallbackQuery
		if cq == nil {
			continue
		}
		id, ok := strings.CutPrefix(cq.Data, ackPrefix)
		if !ok || id == "" || len(id) > 64 {
			continue
		}
		by := strings.TrimSpace(cq.From.FirstName + " " + cq.From.LastName)
		if cq.From.Username != "" {
			if by == "" {
				by = "@" + cq.From.Username
			} else {
				by += " (@" + cq.From.Username + ")"
			}
		}
		if by == "" {
			by = "telegram user " + strconv.FormatInt(cq.From.ID, 10)
		}
		a := Ack{AlertID: id, By: by, CallbackID: cq.ID}
		if cq.Message != nil {
			a.ChatID = strconv.FormatInt(cq.Message.Chat.ID, 10)
			if cq.Message.Chat.Username != "" && cq.Message.Chat.ID == 0 {
				a.ChatID = "@" + cq.Message.Chat.Username
			}
		}
		acks = append(acks, a)
	}
	return acks, next, nil
}

// Poll asks getUpdates for callback queries from offset, waiting up to
// PollTimeout for one.
func (t *Telegram) Poll(ctx context.Context, offset int64) ([]Ack, int64, error) {
	timeout := t.PollTimeout
	if timeout == 0 {
		timeout = 50 * time.Second
	}
	res, err := t.call(ctx, "getUpdates", map[string]any{
		"offset": offset, "timeout": int(timeout / time.Second), "allowed_updates": []string{"callback_query"},
	})
	if err != nil {
		return nil, offset, err
	}
	acks, next, err := ParseUpdates(res)
	if err != nil {
		return nil, offset, err
	}
	return acks, max(next, offset), nil
}

// Answer answers a callback query with a short text shown to the user.
func (t *Telegram) Answer(ctx context.Context, callbackID, text string) error {
	_, err := t.call(ctx, "answerCallbackQuery", map[string]any{"callback_query_id": callbackID, "text": text})
	return err
}

// AckHandler handles a press: it returns the text shown to the user.
type AckHandler func(a Ack) string

// OffsetStore keeps the getUpdates offset across restarts.
type OffsetStore interface {
	TelegramOffset() int64
	SetTelegramOffset(int64)
}

// RunAcks long-polls getUpdates until ctx is cancelled, passing each press to
// handle and answering it. Errors are logged and retried with a growing delay
// (at most a minute); after holds the backoff's clock (nil: real time).
func (t *Telegram) RunAcks(ctx context.Context, store OffsetStore, handle AckHandler) error {
	log := t.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	delay := time.Second
	for ctx.Err() == nil {
		acks, next, err := t.Poll(ctx, store.TelegramOffset())
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var ae *APIError
			wait := delay
			if errors.As(err, &ae) && ae.RetryAfter > 0 {
				wait = time.Duration(ae.RetryAfter) * time.Second
			}
			log.Warn("telegram getUpdates failed", "err", err, "retry_in", wait)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			delay = min(delay*2, time.Minute)
			continue
		}
		delay = time.Second
		for _, a := range acks {
			text := handle(a)
			if a.CallbackID != "" {
				if err := t.Answer(ctx, a.CallbackID, text); err != nil {
					log.Warn("telegram answerCallbackQuery failed", "err", err)
				}
			}
		}
		store.SetTelegramOffset(next)
	}
	return nil
}

var _ outbox.Sender = (*Telegram)(nil)
