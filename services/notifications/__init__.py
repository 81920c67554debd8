"""In-app notifications (消息), the outbound channel (email by SMTP, by a job), deadline reminders."""
