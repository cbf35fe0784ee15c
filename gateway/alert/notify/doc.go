// Package notify holds the alert channels: Telegram Bot API (sendMessage with an
// inline "acknowledge" button, getUpdates long polling for the button presses),
// e-mail over SMTP, a webhook signed with HMAC-SHA256, and MQTT. Each channel is
// an outbox.Sender: Send returns nil once the peer accepted the message.
//
// # References
//
//   - Telegram Bot API: https://core.telegram.org/bots/api (sendMessage,
//     getUpdates, answerCallbackQuery, InlineKeyboardMarkup, CallbackQuery)
//   - go-mail: https://pkg.go.dev/github.com/wneessen/go-mail
package notify
