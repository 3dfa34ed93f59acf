#!/usr/bin/python3
"""Deterministic generator of a synthetic support-ticket corpus (Russian and English, 10 classes).

Usage: gen_tickets.py [--rows N] [--seed S] > tickets.csv
Standard library only. The same arguments always give the same bytes. Texts mix languages,
case, typos, greetings and sign-offs, and share vocabulary across classes so that the task is
not trivially separable; about 3% of labels are deliberately noisy.
"""
import argparse
import csv
import random
import sys

CLASSES = {
    "billing": {
        "en": ["I was charged twice for my {plan} subscription",
               "my invoice for {month} shows the wrong amount",
               "why is my bill higher than usual this month",
               "the payment for order {num} went through twice",
               "please explain the extra fee on my {card} card",
               "billing page shows {num} dollars but I paid already",
               "can I change the payment method from {card} to paypal",
               "tax on the invoice is wrong, please correct"],
        "ru": ["с меня дважды списали деньги за подписку {plan}",
               "в счете за {month_ru} неправильная сумма",
               "почему счет в этом месяце больше обычного",
               "оплата заказа {num} прошла два раза",
               "объясните лишнюю комиссию по карте {card}",
               "в личном кабинете долг {num} рублей хотя я все оплатил",
               "как сменить способ оплаты на другую карту",
               "неверно начислен НДС в счете"],
    },
    "login": {
        "en": ["I can't log in to my account",
               "password reset email never arrives",
               "two factor code is not accepted when I sign in",
               "login page says invalid password but it is correct",
               "my account is locked after {num} attempts",
               "cannot sign in from the mobile app on {device}",
               "the sms code for login does not come",
               "session expires every minute and kicks me out"],
        "ru": ["не могу войти в личный кабинет",
               "не приходит письмо для сброса пароля",
               "код двухфакторной аутентификации не принимается",
               "пишет неверный пароль хотя он правильный",
               "аккаунт заблокирован после {num} попыток входа",
               "не получается авторизоваться в приложении на {device}",
               "не приходит смс с кодом для входа",
               "постоянно выкидывает из учетной записи"],
    },
    "delivery": {
        "en": ["my order {num} has not arrived yet",
               "the courier did not come today",
               "tracking number {num} shows no updates for a week",
               "package was delivered to the wrong address",
               "when will my parcel be delivered",
               "delivery is late by {num} days",
               "the box arrived damaged and open",
               "can I change the delivery address for order {num}"],
        "ru": ["мой заказ {num} до сих пор не доставлен",
               "курьер сегодня не приехал",
               "трек номер {num} не обновляется неделю",
               "посылку доставили не по тому адресу",
               "когда привезут мою посылку",
               "доставка задерживается на {num} дней",
               "коробка пришла поврежденной и вскрытой",
               "можно ли изменить адрес доставки заказа {num}"],
    },
    "refund": {
        "en": ["I want a refund for order {num}",
               "please return my money for the cancelled order",
               "refund was promised {num} days ago but nothing came",
               "how long does a refund to {card} take",
               "I returned the item, where is my money",
               "request to cancel and refund my {plan} plan",
               "the refund amount is less than I paid",
               "money back please, the product is not what I ordered"],
        "ru": ["хочу вернуть деньги за заказ {num}",
               "верните деньги за отмененный заказ",
               "возврат обещали {num} дней назад но ничего нет",
               "сколько идет возврат на карту {card}",
               "я вернул товар, где мои деньги",
               "прошу отменить тариф {plan} и вернуть оплату",
               "сумма возврата меньше чем я заплатил",
               "верните деньги, товар не тот что я заказывал"],
    },
    "bug": {
        "en": ["the app crashes when I open {screen}",
               "error {code} appears on the {screen} page",
               "button on {screen} does nothing",
               "the page freezes after the last update",
               "I get a blank screen on {device}",
               "export to csv produces an empty file",
               "search returns wrong results since version {ver}",
               "app shows error {code} and closes on {device}"],
        "ru": ["приложение вылетает при открытии раздела {screen_ru}",
               "на странице {screen_ru} появляется ошибка {code}",
               "кнопка в разделе {screen_ru} не работает",
               "страница зависает после последнего обновления",
               "белый экран на {device}",
               "выгрузка в csv дает пустой файл",
               "поиск выдает неправильные результаты с версии {ver}",
               "приложение падает с ошибкой {code} на {device}"],
    },
    "feature": {
        "en": ["please add a dark mode",
               "it would be great to export reports to excel",
               "could you add support for {lang} language",
               "feature request: schedule reports by email",
               "I suggest adding a widget for {screen}",
               "would love an option to share lists with family",
               "please make an api for {screen}",
               "add the ability to filter by date"],
        "ru": ["добавьте пожалуйста темную тему",
               "было бы удобно выгружать отчеты в excel",
               "добавьте поддержку языка {lang_ru}",
               "предложение: отправка отчетов по почте по расписанию",
               "предлагаю добавить виджет для раздела {screen_ru}",
               "хотелось бы делиться списками с семьей",
               "сделайте api для раздела {screen_ru}",
               "добавьте фильтр по дате"],
    },
    "account_deletion": {
        "en": ["please delete my account and all my data",
               "how do I close my account permanently",
               "I want to remove my profile under gdpr",
               "delete my personal data from your service",
               "cancel my membership and erase the account",
               "I no longer use the service, remove my account",
               "request to delete user {email}",
               "unsubscribe me and delete everything"],
        "ru": ["удалите мой аккаунт и все данные",
               "как навсегда удалить учетную запись",
               "прошу удалить мой профиль и персональные данные",
               "удалите мои персональные данные из сервиса",
               "хочу закрыть аккаунт и стереть все",
               "больше не пользуюсь сервисом, удалите профиль",
               "прошу удалить пользователя {email}",
               "отпишите меня и удалите все данные"],
    },
    "hardware": {
        "en": ["the router from your kit does not turn on",
               "my {device} screen is cracked after a week",
               "the charger stopped working",
               "printer is jammed and shows a red light",
               "battery drains in {num} hours",
               "keyboard keys are stuck on the laptop you sent",
               "the terminal overheats and reboots",
               "camera on the {device} is blurry"],
        "ru": ["роутер из комплекта не включается",
               "экран {device} треснул через неделю",
               "зарядка перестала работать",
               "принтер зажевал бумагу и горит красным",
               "батарея садится за {num} часов",
               "на присланном ноутбуке западают клавиши",
               "терминал перегревается и перезагружается",
               "камера на {device} снимает размыто"],
    },
    "network": {
        "en": ["internet is very slow since yesterday",
               "wifi keeps disconnecting every {num} minutes",
               "no connection to the server from the office",
               "vpn does not connect, timeout error {code}",
               "high ping and packet loss in the evening",
               "the site does not load, dns error",
               "no internet in the whole building",
               "speed is {num} mbit instead of 100"],
        "ru": ["интернет очень медленный со вчерашнего дня",
               "wifi отключается каждые {num} минут",
               "нет соединения с сервером из офиса",
               "vpn не подключается, ошибка таймаута {code}",
               "высокий пинг и потери пакетов по вечерам",
               "сайт не открывается, ошибка dns",
               "нет интернета во всем здании",
               "скорость {num} мбит вместо 100"],
    },
    "other": {
        "en": ["thank you for the quick help",
               "what are your working hours",
               "where is your office located",
               "I want to leave feedback about the operator",
               "do you have a partnership program",
               "how can I contact the manager",
               "just a question about the service",
               "is there a discount for students"],
        "ru": ["спасибо за быструю помощь",
               "какой у вас график работы",
               "где находится ваш офис",
               "хочу оставить отзыв об операторе",
               "есть ли у вас партнерская программа",
               "как связаться с менеджером",
               "просто вопрос по обслуживанию",
               "есть ли скидка для студентов"],
    },
}

SLOTS = {
    "plan": ["premium", "basic", "pro", "family", "business"],
    "month": ["january", "march", "may", "august", "october", "december"],
    "month_ru": ["январь", "март", "май", "август", "октябрь", "декабрь"],
    "card": ["visa", "mastercard", "mir", "amex"],
    "device": ["iphone", "android", "ipad", "samsung", "xiaomi", "windows", "macbook"],
    "screen": ["settings", "profile", "cart", "checkout", "dashboard", "reports", "history"],
    "screen_ru": ["настройки", "профиль", "корзина", "оформление", "главная", "отчеты",
                  "история"],
    "lang": ["spanish", "german", "kazakh", "french"],
    "lang_ru": ["испанского", "немецкого", "казахского", "французского"],
    "ver": ["2.1", "3.0.4", "4.2", "5.1.1"],
}

GREET = {"en": ["hello", "hi", "good afternoon", "dear support", "hey", ""],
         "ru": ["здравствуйте", "добрый день", "привет", "уважаемая поддержка", ""]}
CLOSE = {"en": ["thanks", "please help", "urgent!!", "regards", "thank you in advance", ""],
         "ru": ["спасибо", "помогите пожалуйста", "срочно!!", "с уважением", "заранее спасибо",
                ""]}
# Sentences that say nothing about the class: they blur the boundaries as in real tickets.
FILLER = {"en": ["I have been your customer for years", "this is the second time I write",
                 "nobody answers the phone", "my order number is {num}",
                 "I use the app on {device}", "see the screenshot attached"],
          "ru": ["я ваш клиент уже много лет", "пишу уже второй раз",
                 "по телефону никто не отвечает", "номер заказа {num}",
                 "пользуюсь приложением на {device}", "скриншот во вложении"]}


def fill(rng, s):
    out = s
    while "{" in out:
        a = out.index("{")
        b = out.index("}", a)
        key = out[a + 1:b]
        if key == "num":
            val = str(rng.randint(2, 99999))
        elif key == "code":
            val = str(rng.choice([400, 403, 404, 500, 502, 503])) if rng.random() < .5 \
                else "E" + str(rng.randint(10, 99))
        elif key == "email":
            val = "user%d@example.%s" % (rng.randint(1, 9999), rng.choice(["com", "ru"]))
        else:
            val = rng.choice(SLOTS[key])
        out = out[:a] + val + out[b + 1:]
    return out


def typo(rng, w):
    if len(w) < 4:
        return w
    i = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return w[:i] + w[i + 1:]
    if kind == 1:
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    return w[:i] + w[i] + w[i:]


def ticket(rng, label):
    lang = "ru" if rng.random() < 0.5 else "en"
    parts = []
    g = rng.choice(GREET[lang])
    if g:
        parts.append(g + rng.choice([",", "!", ""]))
    main = fill(rng, rng.choice(CLASSES[label][lang]))
    parts.append(main)
    if rng.random() < 0.35:
        # a second sentence of the same class, sometimes in the other language
        l2 = lang if rng.random() < 0.8 else ("en" if lang == "ru" else "ru")
        parts.append(fill(rng, rng.choice(CLASSES[label][l2])))
    if rng.random() < 0.4:
        parts.append(fill(rng, rng.choice(FILLER[lang])))
    if rng.random() < 0.15:
        # a sentence of another class: tickets often mention two problems
        other = rng.choice([c for c in CLASSES if c != label])
        parts.insert(len(parts) - 1 if rng.random() < .5 else len(parts),
                     fill(rng, rng.choice(CLASSES[other][lang])))
    c = rng.choice(CLOSE[lang])
    if c:
        parts.append(c)
    sep = rng.choice([". ", " ", ". ", "\n", ", "])
    text = sep.join(parts)
    words = text.split(" ")
    words = [typo(rng, w) if rng.random() < 0.06 else w for w in words]
    text = " ".join(words)
    r = rng.random()
    if r < 0.08:
        text = text.upper()
    elif r < 0.4:
        text = text[:1].upper() + text[1:]
    if rng.random() < 0.03:
        text = '"' + text + '"'
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    labels = list(CLASSES)
    # imbalanced on purpose: "other" and "account_deletion" are rarer
    weights = [12, 14, 13, 11, 12, 8, 5, 9, 10, 6]
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["text", "label"])
    for _ in range(a.rows):
        label = rng.choices(labels, weights)[0]
        text = ticket(rng, label)
        if rng.random() < 0.03:
            label = rng.choice(labels)
        w.writerow([text, label])


if __name__ == "__main__":
    main()
